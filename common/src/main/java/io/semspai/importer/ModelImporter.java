package io.semspai.importer;

import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.TextNode;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.BundleWriter;
import io.semspai.bundle.Safetensors;
import io.semspai.bundle.StateDictLoader;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.FusionHead;
import io.semspai.fusion.HeadBundle;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.fusion.ThresholdProfiles;
import io.semspai.semantic.ConvNextConfig;
import io.semspai.semantic.ConvNextModel;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Turns upstream checkpoints into a model bundle, one {@link ComponentImporter} per component:
 *
 * <ol>
 *   <li>open every file and read its index only (zip directory and pickle, or safetensors header);
 *   <li>select each component's tensors and decide its architecture from their shapes, the preset and
 *       {@code --set};
 *   <li>check every key, shape and type against what that architecture needs, reporting all missing keys,
 *       unexpected keys and wrong shapes of all components at once; known-unused upstream tensors are skipped;
 *   <li>hash each source file (its sha256 goes into the manifest's provenance);
 *   <li>write the bundle through {@link BundleWriter}: each tensor is read, widened to float32 (int64 stays int64),
 *       checked to be finite and written before the next is read, so the heap holds one tensor at a time; the
 *       bundle appears under its final name only when everything was written.
 * </ol>
 *
 * <p>What the bundle is follows from the components given: SPAI alone makes a spectral bundle; SPAI with the
 * ConvNeXt trunk makes a Sem-SPAI bundle (manifest {@code mode} fusion, uncalibrated {@code thresholds}) laid out
 * as {@link io.semspai.fusion.SemSpaiBundles#writeRandom} lays it out, with the imported fusion head or, without
 * one, Sem-SPAI's own random initialisation of it, which must then be trained. The trunk and the head never go
 * without SPAI, and the head never without the trunk.
 */
public final class ModelImporter {
  private ModelImporter() {}

  /** One component to import: its kind and the checkpoint file that holds it. */
  public record Input(ComponentImporter kind, Path file) {}

  /** What was done for one component, for the user. */
  public record ComponentReport(
      String component,
      Path file,
      WeightSource.Format format,
      String selection,
      List<String> otherEntries,
      int tensorsWritten,
      Map<String, Integer> sourceDtypes,
      List<String> ignoredKeys,
      List<String> decisions,
      String summary,
      String checkpointSha256,
      long bytes) {}

  /** A fusion head that no checkpoint held: Sem-SPAI's own initialisation, untrained. */
  public record RandomHead(long seed, List<String> decisions, String summary, long bytes) {}

  /**
   * The bundle written and what each component came from.
   *
   * @param mode the bundle's default mode: {@code fusion} with the semantic branch, else {@code spectral}
   * @param randomHead the untrained head written when no {@code --head} was given to a fusion bundle; else null
   */
  public record Result(Path bundle, BundleManifest manifest, List<ComponentReport> components, String mode,
      RandomHead randomHead) {}

  /** The {@code --head-seed} used when none is given: bundles imported twice from the same files are identical. */
  public static final long DEFAULT_HEAD_SEED = 0;

  /** What an imported Sem-SPAI bundle's placeholder thresholds say about themselves. */
  public static final String THRESHOLDS_NOTE = "imported, not calibrated: run eval/train-head to calibrate";

  /** Components in bundle order (as {@code SemSpaiBundles.writeRandom} writes them). */
  private static final List<String> ORDER = List.of(SpaiModel.COMPONENT, ConvNextModel.COMPONENT,
      HeadBundle.COMPONENT);

  private static final int LIST_LIMIT = 12;

  /** {@link #run(List, List, long, Path, String, String, Consumer)} with the default head seed. */
  public static Result run(List<Input> inputs, List<String> settings, Path out, String name, String version,
      Consumer<String> log) throws IOException {
    return run(inputs, settings, DEFAULT_HEAD_SEED, out, name, version, log);
  }

  /**
   * Imports {@code inputs} into a new bundle at {@code out}. The same file may hold several components (a Sem-SPAI
   * checkpoint holds all three); it is opened and hashed once.
   *
   * @param settings {@code key=value} strings as given to {@code --set}
   * @param headSeed seeds the random fusion head written when SPAI and ConvNeXt come without a head
   * @param log receives one line per stage (may be null)
   * @throws ImportException for every problem with the inputs, settings or output directory; nothing is left
   *     under {@code out} or beside it
   */
  public static Result run(List<Input> inputs, List<String> settings, long headSeed, Path out, String name,
      String version, Consumer<String> log) throws IOException {
    Consumer<String> say = log == null ? s -> { } : log;
    if (inputs.isEmpty()) {
      throw new ImportException("nothing to import: give at least one checkpoint");
    }
    inputs = inBundleOrder(inputs);
    Map<String, Input> byComponent = new LinkedHashMap<>();
    for (Input in : inputs) {
      if (byComponent.put(in.kind().component(), in) != null) {
        throw new ImportException(in.kind().option() + " is given twice");
      }
    }
    requireCompanions(byComponent);
    boolean fusion = byComponent.containsKey(ConvNextModel.COMPONENT);
    HeadImporter randomHead = fusion && !byComponent.containsKey(HeadBundle.COMPONENT) ? new HeadImporter() : null;
    checkOutput(out);
    List<ComponentImporter> kinds = new ArrayList<>();
    inputs.forEach(in -> kinds.add(in.kind()));
    if (randomHead != null) {
      kinds.add(randomHead);
    }
    Map<ComponentImporter, Map<String, String>> routed = route(kinds, settings);
    Map<Path, WeightSource> open = new LinkedHashMap<>();
    try {
      List<Prepared> prepared = new ArrayList<>();
      List<String> problems = new ArrayList<>();
      for (Input in : inputs) {
        WeightSource src = open.get(same(in.file()));
        if (src == null) {
          src = WeightSource.open(in.file());
          open.put(same(in.file()), src);
        }
        say.accept(in.kind().option() + " " + in.file() + ": " + src.format() + ", " + src.selection() + ", "
            + src.tensors().size() + " tensors");
        Map<String, SourceTensor> tensors = in.kind().select(src);
        ComponentImporter.Plan plan = in.kind().plan(tensors, routed.getOrDefault(in.kind(), Map.of()));
        List<String> ignored = new ArrayList<>();
        String mismatch = check(in.kind(), tensors, plan, ignored);
        if (mismatch != null) {
          problems.add(in.kind().option() + " " + in.file() + ": " + mismatch);
        }
        prepared.add(new Prepared(in, src, tensors, plan, ignored));
      }
      if (!problems.isEmpty()) {
        throw new ImportException(String.join("\n", problems));
      }
      ComponentImporter.Plan randomPlan = fusion ? checkFusion(prepared, randomHead,
          routed.getOrDefault(randomHead, Map.of())) : null;
      Map<Path, String> hashes = new LinkedHashMap<>();
      for (Prepared p : prepared) {
        if (!hashes.containsKey(same(p.input.file()))) {
          say.accept("sha256 of " + p.input.file().getFileName() + " ...");
          hashes.put(same(p.input.file()), Safetensors.sha256Hex(p.input.file()));
        }
      }
      List<ComponentReport> reports = new ArrayList<>();
      try (BundleWriter w = new BundleWriter(out, name, version)) {
        if (fusion) {
          w.putManifestField(SemSpaiModel.MODE_FIELD, TextNode.valueOf(SemSpaiModel.Mode.FUSION.json()));
          w.putManifestField(ThresholdProfiles.FIELD, ThresholdProfiles.uncalibrated(ThresholdProfiles.Score.FUSED,
              THRESHOLDS_NOTE).toJson());
        }
        for (Prepared p : prepared) {
          reports.add(write(w, p, hashes.get(same(p.input.file())), say));
        }
        RandomHead head = null;
        if (randomPlan != null) {
          FusionConfig cfg = randomPlan.architectureAs(FusionConfig.class);
          say.accept("writing head (Sem-SPAI's random init, seed " + headSeed + ") ...");
          HeadBundle.writeComponent(w, cfg, FusionHead.initialState(cfg, headSeed),
              BundleManifest.Provenance.randomInit(headSeed));
          head = new RandomHead(headSeed, randomPlan.decisions(), randomPlan.summary(),
              w.manifest().component(HeadBundle.COMPONENT).bytes());
        }
        Path bundle = w.commit();
        return new Result(bundle, w.manifest(), reports, fusion ? SemSpaiModel.Mode.FUSION.json()
            : SemSpaiModel.Mode.SPECTRAL.json(), head);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        throw new ImportException("--out " + out + " already exists and is not an empty directory", e);
      }
    } finally {
      for (WeightSource s : open.values()) {
        try {
          s.close();
        } catch (IOException ignored) {
          // reading is over; a close failure changes nothing that was written
        }
      }
    }
  }

  /** One key per file however it was spelled, so a file named twice is opened and hashed once. */
  private static Path same(Path file) {
    return file.toAbsolutePath().normalize();
  }

  private static List<Input> inBundleOrder(List<Input> inputs) {
    List<Input> sorted = new ArrayList<>(inputs);
    sorted.sort(Comparator.comparingInt(in -> {
      int i = ORDER.indexOf(in.kind().component());
      return i < 0 ? ORDER.size() : i;
    }));
    return sorted;
  }

  /** Every bundle holds SPAI; the fusion head runs on the trunk's features. */
  private static void requireCompanions(Map<String, Input> byComponent) throws ImportException {
    for (String c : List.of(ConvNextModel.COMPONENT, HeadBundle.COMPONENT)) {
      Input in = byComponent.get(c);
      if (in != null && !byComponent.containsKey(SpaiModel.COMPONENT)) {
        throw new ImportException(in.kind().option() + " needs --spai too: every bundle holds SPAI, which the"
            + " semantic branch and the fusion head add to; give --spai FILE (spai.pth, or the same Sem-SPAI"
            + " checkpoint); nothing was written");
      }
    }
    Input head = byComponent.get(HeadBundle.COMPONENT);
    if (head != null && !byComponent.containsKey(ConvNextModel.COMPONENT)) {
      throw new ImportException(head.kind().option() + " needs --convnext too: the fusion head runs on the ConvNeXt"
          + " trunk's features; give --convnext FILE (open_clip_pytorch_model.bin, or the same Sem-SPAI checkpoint);"
          + " nothing was written");
    }
  }

  /**
   * Checks that the head fits the backbones (its input widths are their feature widths) and returns the random
   * head's plan when there is no imported head.
   */
  private static ComponentImporter.Plan checkFusion(List<Prepared> prepared, HeadImporter randomHead,
      Map<String, String> randomSettings) throws IOException {
    SpaiConfig spai = null;
    ConvNextConfig convnext = null;
    Prepared head = null;
    for (Prepared p : prepared) {
      switch (p.input.kind().component()) {
        case SpaiModel.COMPONENT -> spai = SpaiImporter.config(p.plan);
        case ConvNextModel.COMPONENT -> convnext = p.plan.architectureAs(ConvNextConfig.class);
        case HeadBundle.COMPONENT -> head = p;
        default -> { }
      }
    }
    ComponentImporter.Plan plan = head != null ? head.plan
        : randomHead.randomPlan(randomSettings, spai.featureDim(), convnext.featureDim());
    FusionConfig cfg = plan.architectureAs(FusionConfig.class);
    if (!cfg.fits(spai, convnext)) {
      String what = head != null ? "--head " + head.input.file() + ": the head" : "--set: the random head";
      throw new ImportException(what + " takes " + cfg.spectralDim() + " spectral and " + cfg.semanticDim()
          + " semantic features, but --spai gives " + spai.featureDim() + " and --convnext gives "
          + convnext.featureDim() + "; the head was trained on other backbones (or the files are mixed up);"
          + " nothing was written");
    }
    return head != null ? null : plan;
  }

  private record Prepared(Input input, WeightSource source, Map<String, SourceTensor> tensors,
      ComponentImporter.Plan plan, List<String> ignored) {}

  private static void checkOutput(Path out) throws ImportException {
    if (!Files.exists(out)) {
      return;
    }
    boolean empty = false;
    if (Files.isDirectory(out)) {
      try (Stream<Path> s = Files.list(out)) {
        empty = s.findAny().isEmpty();
      } catch (IOException e) {
        throw new ImportException("--out " + out + ": cannot list: " + e.getMessage(), e);
      }
    }
    if (!empty) {
      throw new ImportException("--out " + out + " already exists and is not an empty directory");
    }
  }

  /** Splits {@code key=value} settings by the component that understands the key (canonical key → value). */
  static Map<ComponentImporter, Map<String, String>> route(List<ComponentImporter> kinds, List<String> settings)
      throws ImportException {
    Map<ComponentImporter, Map<String, String>> out = new LinkedHashMap<>();
    for (String s : settings) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new ImportException("--set " + s + ": expected key=value, e.g. --set vit.num_heads=12");
      }
      String key = s.substring(0, eq).trim();
      String value = s.substring(eq + 1).trim();
      if (value.isEmpty()) {
        throw new ImportException("--set " + key + "=: the value is empty");
      }
      Map<ComponentImporter, String> owners = new LinkedHashMap<>();
      for (ComponentImporter k : kinds) {
        String local = key.startsWith(k.component() + ".") ? key.substring(k.component().length() + 1) : key;
        local = k.settingAliases().getOrDefault(local, local);
        if (k.settingKeys().containsKey(local)) {
          owners.put(k, local);
        }
      }
      if (owners.isEmpty()) {
        StringBuilder known = new StringBuilder();
        for (ComponentImporter k : kinds) {
          known.append("; ").append(k.option()).append(" takes ").append(String.join(", ", k.settingKeys().keySet()));
        }
        throw new ImportException("unknown --set key '" + key + "'" + known);
      }
      if (owners.size() > 1) {
        List<String> names = new ArrayList<>();
        List<String> spelled = new ArrayList<>();
        owners.forEach((k, local) -> {
          names.add(k.component());
          spelled.add(k.component() + "." + local);
        });
        throw new ImportException("--set " + key + " is ambiguous: " + String.join(" and ", names) + " both take it;"
            + " write " + String.join(" or ", spelled));
      }
      ComponentImporter owner = owners.keySet().iterator().next();
      String canonical = owners.get(owner);
      Map<String, String> mine = out.computeIfAbsent(owner, k -> new LinkedHashMap<>());
      if (mine.containsKey(canonical)) {
        throw new ImportException("--set " + canonical + " is given twice");
      }
      mine.put(canonical, value);
    }
    return out;
  }

  /** Missing keys, unexpected keys, wrong shapes and types as one message; null when everything fits. */
  static String check(ComponentImporter kind, Map<String, SourceTensor> tensors, ComponentImporter.Plan plan,
      List<String> ignoredOut) {
    StateDictLoader.Expectation e = plan.expectation();
    List<String> missing = new ArrayList<>();
    List<String> wrongShape = new ArrayList<>();
    List<String> wrongType = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    for (Map.Entry<String, Shape> x : e.shapes().entrySet()) {
      SourceTensor t = tensors.get(x.getKey());
      if (t == null) {
        missing.add(x.getKey());
      } else if (!Arrays.equals(t.shape(), x.getValue().getShape())) {
        wrongShape.add(x.getKey() + " is " + shape(t.shape()) + ", expected " + shape(x.getValue().getShape()));
      } else if (e.dataTypes().get(x.getKey()) == DataType.FLOAT32 && !t.isFloating()) {
        wrongType.add(x.getKey() + " is " + t.dtype() + ", expected a floating type");
      }
    }
    for (String k : tensors.keySet()) {
      if (!e.shapes().containsKey(k)) {
        if (e.ignored().test(k)) {
          ignoredOut.add(k);
        } else {
          unexpected.add(k);
        }
      }
    }
    List<String> parts = new ArrayList<>();
    if (!missing.isEmpty()) {
      parts.add(missing.size() + " missing " + plural(missing.size(), "key") + " " + list(missing));
    }
    if (!unexpected.isEmpty()) {
      parts.add(unexpected.size() + " unexpected " + plural(unexpected.size(), "key") + " " + list(unexpected));
    }
    if (!wrongShape.isEmpty()) {
      parts.add(wrongShape.size() + " wrong " + plural(wrongShape.size(), "shape") + " " + list(wrongShape));
    }
    if (!wrongType.isEmpty()) {
      parts.add(wrongType.size() + " wrong " + plural(wrongType.size(), "type") + " " + list(wrongType));
    }
    if (parts.isEmpty()) {
      return null;
    }
    String msg = "the weights do not match the " + kind.component() + " model their shapes describe ("
        + plan.summary() + "): " + String.join("; ", parts);
    List<String> hints = kind.hints(missing.size() == e.shapes().size() ? otherKeys(tensors, e) : unexpected);
    // a hint names the likely cause; it goes first so a long key list does not bury it
    return hints.isEmpty() ? msg : String.join("; ", hints) + ". In detail, " + msg;
  }

  /**
   * Every key the component does not use, skipped ones included: when none of its own keys is in the file, the
   * file is probably another component's, whose keys may all be ones this component skips.
   */
  private static List<String> otherKeys(Map<String, SourceTensor> tensors, StateDictLoader.Expectation e) {
    return tensors.keySet().stream().filter(k -> !e.shapes().containsKey(k)).toList();
  }

  private static ComponentReport write(BundleWriter w, Prepared p, String sha256, Consumer<String> say)
      throws IOException {
    StateDictLoader.Expectation e = p.plan.expectation();
    List<Safetensors.TensorSpec> specs = new ArrayList<>();
    for (Map.Entry<String, Shape> x : e.shapes().entrySet()) {
      Safetensors.DType dt = e.dataTypes().get(x.getKey()) == DataType.INT64 ? Safetensors.DType.I64
          : Safetensors.DType.F32;
      specs.add(new Safetensors.TensorSpec(x.getKey(), dt, x.getValue().getShape()));
    }
    String fileName = p.input.file().getFileName().toString();
    Map<String, Integer> dtypes = new TreeMap<>();
    say.accept("writing " + p.input.kind().component() + " (" + specs.size() + " tensors) ...");
    try (BundleWriter.ComponentWriter c = w.component(p.input.kind().component(), p.input.kind().weightFile(),
        p.plan.architecture(), p.plan.settings(), BundleManifest.Provenance.upstream(fileName, sha256), specs,
        Map.of("format", "pt"))) {
      for (Safetensors.TensorSpec s : specs) {
        SourceTensor t = p.tensors.get(s.name());
        dtypes.merge(t.dtype(), 1, Integer::sum);
        try {
          if (s.dtype() == Safetensors.DType.I64) {
            c.tensors().writeLongs(s.name(), t.readLongs());
          } else {
            float[] v = t.readFloats();
            checkFinite(s.name(), v);
            c.tensors().writeFloats(s.name(), v);
          }
        } catch (ImportException ex) {
          throw new ImportException(p.input.kind().option() + " " + p.input.file() + ": " + ex.getMessage(), ex);
        } catch (IOException ex) {
          throw new ImportException(p.input.kind().option() + " " + withoutFile(ex.getMessage(), p.input.file()), ex);
        }
      }
      c.finish();
    }
    BundleManifest.Component written = w.manifest().component(p.input.kind().component());
    return new ComponentReport(p.input.kind().component(), p.input.file(), p.source.format(), p.source.selection(),
        p.source.otherEntries(), specs.size(), dtypes, p.ignored, p.plan.decisions(), p.plan.summary(), sha256,
        written.bytes());
  }

  private static void checkFinite(String key, float[] v) throws ImportException {
    int bad = 0;
    for (float f : v) {
      if (!Float.isFinite(f)) {
        bad++;
      }
    }
    if (bad > 0) {
      throw new ImportException("tensor " + key + " holds " + bad + " non-finite " + plural(bad, "value")
          + " (NaN or ±Inf); the checkpoint is damaged or was saved after training diverged");
    }
  }

  /** Checkpoint messages start with the file's path; say it once, after the option. */
  private static String withoutFile(String message, Path file) {
    String m = String.valueOf(message);
    String prefix = file.toString() + ": ";
    return file + ": " + (m.startsWith(prefix) ? m.substring(prefix.length()) : m);
  }

  private static String shape(long[] s) {
    return Arrays.toString(s).replace('[', '(').replace(']', ')');
  }

  private static String plural(int n, String word) {
    return n == 1 ? word : word + "s";
  }

  private static String list(List<String> items) {
    if (items.size() <= LIST_LIMIT) {
      return items.toString();
    }
    return items.subList(0, LIST_LIMIT).toString().replaceFirst("]$", ", … " + (items.size() - LIST_LIMIT)
        + " more]");
  }
}
