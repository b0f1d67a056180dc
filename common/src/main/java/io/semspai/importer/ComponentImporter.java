package io.semspai.importer;

import com.fasterxml.jackson.databind.JsonNode;
import io.semspai.bundle.StateDictLoader;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What {@link ModelImporter} needs to know about one kind of bundle component (SPAI now; the ConvNeXt trunk and the
 * fusion head when the semantic branch exists). A kind is three things:
 *
 * <ol>
 *   <li>a <b>key selection</b>: which tensors of a checkpoint are its own, under the keys its model uses (SPAI: the
 *       training checkpoint's {@code model} dict; OpenCLIP: the {@code visual.trunk.} prefix, stripped);
 *   <li>a <b>config inference</b>: its architecture from those tensors' shapes, the rest from its upstream preset or
 *       from {@code --set};
 *   <li>an <b>expectation</b>: every key, shape and type the architecture needs, and which extra keys are known to
 *       be unused upstream and skipped.
 * </ol>
 *
 * The importer does everything else the same way for every kind: reading the file, checking keys and shapes,
 * converting to float32 one tensor at a time, writing the bundle atomically, provenance.
 */
public interface ComponentImporter {
  /** The component's name in the bundle manifest, e.g. {@code spai}. */
  String component();

  /** The command-line option that names its checkpoint, e.g. {@code --spai}, for messages. */
  String option();

  /** Its weight file in the bundle, e.g. {@code spai.safetensors}. */
  String weightFile();

  /** The {@code --set} keys it understands (canonical spelling) with what each sets. */
  Map<String, String> settingKeys();

  /** Other spellings accepted for {@code --set} keys, e.g. {@code vit.heads} for {@code vit.num_heads}. */
  default Map<String, String> settingAliases() {
    return Map.of();
  }

  /** Picks this component's tensors out of an opened checkpoint, keyed as its model names them. */
  Map<String, SourceTensor> select(WeightSource source) throws ImportException;

  /**
   * Decides the architecture from the selected tensors' shapes (reading a tensor's data only where its values
   * carry a size, like SPAI's frequency mask), the upstream preset and {@code settings} (canonical key → value as
   * typed), and says what the weights must then look like.
   *
   * @throws ImportException if a setting's value is malformed, or the sizes make no valid architecture
   */
  Plan plan(Map<String, SourceTensor> tensors, Map<String, String> settings) throws ImportException;

  /** Hints for keys the expectation does not know, e.g. that a file is another component's checkpoint. */
  default List<String> hints(Collection<String> unexpectedKeys) {
    return List.of();
  }

  /**
   * The outcome of {@link #plan}: the manifest's architecture block, the expectation, the component's manifest
   * settings, and one line per size saying where it came from (for the user).
   */
  record Plan(JsonNode architecture, StateDictLoader.Expectation expectation, Map<String, String> settings,
      List<String> decisions, String summary) {
    public Plan {
      settings = Map.copyOf(settings);
      decisions = List.copyOf(decisions);
    }

    /** The architecture block read back as the component's config record. */
    public <T> T architectureAs(Class<T> type) throws java.io.IOException {
      return new com.fasterxml.jackson.databind.ObjectMapper().treeToValue(architecture, type);
    }
  }
}
