package io.semspai.fusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.BundleWriter;
import io.semspai.bundle.ModelBundle;
import io.semspai.bundle.Safetensors;
import io.semspai.bundle.StateDictLoader;
import io.semspai.nn.Placement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A head-only bundle: what the trainer releases. A directory like any bundle, with one component:
 *
 * <pre>
 * manifest.json      "kind": "fusion-head", "backbones": {spai, convnext sha256}, "thresholds": {…}, components.head
 * head.safetensors   semantic_projection.{0,1}, fusion_layer.0, classifier.{0,3} (F32, upstream key names)
 * </pre>
 *
 * It is a few MB instead of ~4.4 GB, and {@link SemSpaiModel#swapHead} puts it on a loaded model without reading the
 * backbones again, refusing it when the backbone hashes it was trained on are not the model's. Archives
 * ({@code model pack}/{@code unpack}) work as for full bundles.
 */
public final class HeadBundle {
  public static final String KIND_FIELD = "kind";
  public static final String KIND = "fusion-head";
  public static final String COMPONENT = "head";
  public static final String FILE = "head.safetensors";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ModelBundle bundle;
  private final FusionConfig cfg;
  private final ThresholdProfiles thresholds;
  private final BackboneHashes trainedOn;

  private HeadBundle(ModelBundle bundle, FusionConfig cfg, ThresholdProfiles thresholds, BackboneHashes trainedOn) {
    this.bundle = bundle;
    this.cfg = cfg;
    this.thresholds = thresholds;
    this.trainedOn = trainedOn;
  }

  /**
   * Writes a head bundle atomically.
   *
   * @param state the head's weights by key ({@link FusionHead#state()})
   * @param trainedOn the backbones whose features the head was trained on ({@link SemSpaiModel#backboneHashes()})
   * @param extra further top-level manifest fields (parent version, holdout version, metrics…), kept verbatim
   */
  public static Path write(Path out, String name, String version, FusionConfig cfg, Map<String, float[]> state,
      ThresholdProfiles thresholds, BackboneHashes trainedOn, BundleManifest.Provenance provenance,
      Map<String, JsonNode> extra) throws IOException {
    try (BundleWriter w = new BundleWriter(out, name, version)) {
      w.putManifestField(KIND_FIELD, TextNode.valueOf(KIND));
      w.putManifestField(BackboneHashes.FIELD, trainedOn.toJson());
      w.putManifestField(ThresholdProfiles.FIELD, thresholds.toJson());
      for (Map.Entry<String, JsonNode> e : extra.entrySet()) {
        if (List.of(KIND_FIELD, BackboneHashes.FIELD, ThresholdProfiles.FIELD).contains(e.getKey())) {
          throw new IllegalArgumentException("extra manifest field " + e.getKey() + " is set by the head bundle itself");
        }
        w.putManifestField(e.getKey(), e.getValue());
      }
      writeComponent(w, cfg, state, provenance);
      return w.commit();
    }
  }

  /** Writes the {@code head} component into a bundle being written (full and imported bundles use this too). */
  public static void writeComponent(BundleWriter w, FusionConfig cfg, Map<String, float[]> state,
      BundleManifest.Provenance provenance) throws IOException {
    Map<String, Shape> shapes = new FusionHead(cfg).stateShapes();
    List<Safetensors.TensorSpec> specs = new ArrayList<>();
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      float[] v = state.get(e.getKey());
      if (v == null || v.length != e.getValue().size()) {
        throw new IllegalArgumentException("fusion head state: " + e.getKey() + (v == null ? " is missing"
            : " has " + v.length + " values, expected " + e.getValue().size()));
      }
      specs.add(new Safetensors.TensorSpec(e.getKey(), Safetensors.DType.F32, e.getValue().getShape()));
    }
    if (state.size() != shapes.size()) {
      throw new IllegalArgumentException("fusion head state has keys the head does not: " + state.keySet());
    }
    try (BundleWriter.ComponentWriter c = w.component(COMPONENT, FILE, JSON.valueToTree(cfg), Map.of(), provenance,
        specs, Map.of("format", "pt"))) {
      for (Safetensors.TensorSpec s : specs) {
        c.tensors().writeFloats(s.name(), state.get(s.name()));
      }
      c.finish();
    }
  }

  /** Opens a head bundle; its weights are read (and their checksum checked) by {@link #loadHead}. */
  public static HeadBundle open(Path dir) throws BundleException {
    ModelBundle b = ModelBundle.open(dir);
    BundleManifest m = b.manifest();
    JsonNode kind = m.other().get(KIND_FIELD);
    if (kind == null || !KIND.equals(kind.asText())) {
      throw new BundleException(b.dir(), null, "not a head bundle (manifest kind is " + (kind == null ? "missing"
          : "'" + kind.asText() + "'") + ", expected '" + KIND + "'); a full bundle is loaded with SemSpaiModel.load");
    }
    BackboneHashes hashes;
    ThresholdProfiles thresholds;
    try {
      hashes = BackboneHashes.fromJson(m.other().get(BackboneHashes.FIELD));
      thresholds = ThresholdProfiles.fromJson(m.other().get(ThresholdProfiles.FIELD));
    } catch (IllegalArgumentException e) {
      throw new BundleException(b.dir(), null, e.getMessage(), e);
    }
    return new HeadBundle(b, config(b), thresholds, hashes);
  }

  static FusionConfig config(ModelBundle b) throws BundleException {
    BundleManifest.Component c = b.component(COMPONENT);
    try {
      return JSON.treeToValue(c.architecture(), FusionConfig.class);
    } catch (IOException | IllegalArgumentException e) {
      Throwable t = e;
      while (t.getCause() != null && t.getCause() != t) {
        t = t.getCause();
      }
      throw new BundleException(b.dir(), COMPONENT, "architecture is not a valid fusion head config: "
          + t.getMessage(), e);
    }
  }

  /** Reads a bundle's {@code head} component into a head whose arrays live in {@code manager}. */
  static FusionHead loadComponent(ModelBundle b, FusionConfig cfg, NDManager manager, Placement placement)
      throws BundleException {
    FusionHead head = new FusionHead(cfg);
    Map<String, NDArray> state = b.load(COMPONENT, new StateDictLoader.Expectation(head.stateShapes(),
        head.stateDataTypes(), key -> false), manager);
    head.loadState(state, placement);
    return head;
  }

  public FusionHead loadHead(NDManager manager) throws BundleException {
    return loadHead(manager, null);
  }

  /** The head on a device and precision ({@code manager} should be on that device; null: as loaded, float32). */
  public FusionHead loadHead(NDManager manager, Placement placement) throws BundleException {
    return loadComponent(bundle, cfg, manager, placement);
  }

  public ModelBundle bundle() {
    return bundle;
  }

  public String name() {
    return bundle.manifest().name();
  }

  public String version() {
    return bundle.manifest().version();
  }

  public FusionConfig config() {
    return cfg;
  }

  public ThresholdProfiles thresholds() {
    return thresholds;
  }

  public BackboneHashes trainedOn() {
    return trainedOn;
  }
}
