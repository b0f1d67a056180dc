package io.semspai.fusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.engine.BatchModel;
import io.semspai.engine.ModelOutput;
import io.semspai.engine.StageTimes;
import io.semspai.image.RgbImage;
import io.semspai.nn.Placement;
import io.semspai.semantic.ConvNextConfig;
import io.semspai.semantic.ConvNextModel;
import io.semspai.semantic.SemanticInput;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiInputPolicy;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiPatches;
import io.semspai.spai.SpaiResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sem-SPAI end to end, as the engine drives it ({@link BatchModel}): SPAI (spectral branch), the ConvNeXt trunk
 * (semantic branch) and the late-fusion head, loaded from one bundle.
 *
 * <ul>
 *   <li>{@link Mode#FUSION} (default): every image gets SPAI's 1096-d feature and logit, ConvNeXt's 3072-d feature,
 *       and the fusion head's logit, which is the verdict's score;
 *   <li>{@link Mode#SPECTRAL}: pure upstream SPAI; the ConvNeXt and head weights are not even read (a bundle
 *       without them works).
 * </ul>
 *
 * <p>{@link #prepare} (callers' threads) cuts SPAI patches per the bundle's input policy and builds the semantic
 * input; {@link #run} (one worker) packs the patches of all images into shared encoder chunks, runs the trunk on
 * the images in chunks, and the head on the whole batch. The backbones run in eval mode and are never trained.
 *
 * <p>{@link #swapHead} returns a model with another fusion head on the same backbones, which it shares: no weights
 * are read again, and the backbones are freed when the last model sharing them is closed. That is what the engine's
 * {@code swap} wants: the old model keeps serving its batch in flight and is closed after.
 */
public final class SemSpaiModel implements BatchModel {
  /** Manifest field naming the mode a bundle runs in by default. */
  public static final String MODE_FIELD = "mode";

  public enum Mode {
    FUSION, SPECTRAL;

    public String json() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Mode parse(String s) {
      return switch (s) {
        case "fusion" -> FUSION;
        case "spectral" -> SPECTRAL;
        default -> throw new IllegalArgumentException("mode must be fusion or spectral, got '" + s + "'");
      };
    }

    ThresholdProfiles.Score score() {
      return this == FUSION ? ThresholdProfiles.Score.FUSED : ThresholdProfiles.Score.SPECTRAL;
    }
  }

  /** Backbones shared by a model and the models {@link #swapHead} derives from it. */
  private static final class Backbones {
    final SpaiModel spai;
    final ConvNextModel convnext;
    final BackboneHashes hashes;
    final AtomicInteger refs = new AtomicInteger(1);

    Backbones(SpaiModel spai, ConvNextModel convnext, BackboneHashes hashes) {
      this.spai = spai;
      this.convnext = convnext;
      this.hashes = hashes;
    }

    Backbones retain() {
      if (refs.getAndIncrement() <= 0) {
        throw new IllegalStateException("the backbones were already freed");
      }
      return this;
    }

    void release() {
      if (refs.decrementAndGet() == 0) {
        spai.close();
        if (convnext != null) {
          convnext.close();
        }
      }
    }
  }

  private final Backbones backbones;
  private final Mode mode;
  private final FusionHead head;
  private final NDManager headWeights;
  /** The head's weights as stored (float32), kept when the head runs in reduced precision; else null. */
  private final java.util.Map<String, float[]> headMaster;
  private final ThresholdProfiles thresholds;
  private final String name;
  private final String version;
  private final AtomicBoolean closed = new AtomicBoolean();

  private SemSpaiModel(Backbones backbones, Mode mode, FusionHead head, NDManager headWeights,
      java.util.Map<String, float[]> headMaster, ThresholdProfiles thresholds, String name, String version) {
    this.backbones = backbones;
    this.mode = mode;
    this.head = head;
    this.headWeights = headWeights;
    this.headMaster = headMaster;
    this.thresholds = thresholds;
    this.name = name;
    this.version = version;
  }

  /** Loads a bundle in its default mode (the manifest's {@code mode}; else fusion when it has the components). */
  public static SemSpaiModel load(Path dir) throws BundleException {
    return load(ModelBundle.open(dir), null);
  }

  public static SemSpaiModel load(Path dir, Mode mode) throws BundleException {
    return load(ModelBundle.open(dir), mode);
  }

  /**
   * Loads a bundle, verifying every component it reads (size, sha256, keys, shapes).
   *
   * @param mode null for the bundle's default
   */
  public static SemSpaiModel load(ModelBundle bundle, Mode mode) throws BundleException {
    return load(bundle, mode, Placement.CPU);
  }

  /**
   * {@link #load(ModelBundle, Mode)} onto a device and precision: the SPAI, ConvNeXt and head weights all live
   * there, in that precision (SPAI's FFT stays float32); features and logits come back as float32.
   */
  public static SemSpaiModel load(ModelBundle bundle, Mode mode, Placement placement) throws BundleException {
    BundleManifest m = bundle.manifest();
    boolean hasFusion = m.component(ConvNextModel.COMPONENT) != null && m.component(HeadBundle.COMPONENT) != null;
    if (mode == null) {
      JsonNode declared = m.other().get(MODE_FIELD);
      try {
        mode = declared != null ? Mode.parse(declared.asText()) : hasFusion ? Mode.FUSION : Mode.SPECTRAL;
      } catch (IllegalArgumentException e) {
        throw new BundleException(bundle.dir(), null, "manifest " + e.getMessage());
      }
    }
    if (m.other().containsKey(HeadBundle.KIND_FIELD)) {
      throw new BundleException(bundle.dir(), null, "is a " + m.other().get(HeadBundle.KIND_FIELD).asText()
          + " bundle, which holds no backbones; load a full bundle and swap the head in");
    }
    if (mode == Mode.FUSION && !hasFusion) {
      throw new BundleException(bundle.dir(), null, "has no " + ConvNextModel.COMPONENT + " and "
          + HeadBundle.COMPONENT + " components (it has " + m.components().keySet() + "), so it cannot run in "
          + "fusion mode; use spectral mode (--mode spectral)");
    }
    SpaiModel spai = SpaiModel.load(bundle, placement);
    ConvNextModel convnext = null;
    NDManager headManager = null;
    try {
      FusionHead head = null;
      java.util.Map<String, float[]> master = null;
      if (mode == Mode.FUSION) {
        convnext = ConvNextModel.load(bundle, placement);
        FusionConfig hc = HeadBundle.config(bundle);
        checkFits(bundle.dir(), HeadBundle.COMPONENT, hc, spai.config(), convnext.config());
        headManager = placement.newManager();
        head = HeadBundle.loadComponent(bundle, hc, headManager, placement);
        master = storedHeadState(bundle, hc, placement);
      }
      BackboneHashes hashes = hasFusion ? new BackboneHashes(m.component(SpaiModel.COMPONENT).sha256(),
          m.component(ConvNextModel.COMPONENT).sha256()) : null;
      ThresholdProfiles t = thresholdsFor(bundle, mode);
      return new SemSpaiModel(new Backbones(spai, convnext, hashes), mode, head, headManager, master, t, m.name(),
          m.version());
    } catch (BundleException | RuntimeException e) {
      spai.close();
      if (convnext != null) {
        convnext.close();
      }
      if (headManager != null) {
        headManager.close();
      }
      throw e;
    }
  }

  private static ThresholdProfiles thresholdsFor(ModelBundle bundle, Mode mode) throws BundleException {
    JsonNode node = bundle.manifest().other().get(ThresholdProfiles.FIELD);
    if (node == null) {
      return ThresholdProfiles.uncalibrated(mode.score(), "the bundle carries no thresholds");
    }
    ThresholdProfiles t;
    try {
      t = ThresholdProfiles.fromJson(node);
    } catch (IllegalArgumentException e) {
      throw new BundleException(bundle.dir(), null, e.getMessage(), e);
    }
    if (t.appliesTo() != mode.score()) {
      return ThresholdProfiles.uncalibrated(mode.score(), "the bundle's profiles were set on the "
          + t.appliesTo().json() + " score; in " + mode.json() + " mode these are placeholders");
    }
    return t;
  }

  private static void checkFits(Path dir, String component, FusionConfig hc, SpaiConfig spai, ConvNextConfig cn)
      throws BundleException {
    if (!hc.fits(spai, cn)) {
      throw new BundleException(dir, component, "the head takes " + hc.spectralDim() + " spectral and "
          + hc.semanticDim() + " semantic features, but the backbones give " + spai.featureDim() + " and "
          + cn.featureDim());
    }
  }

  public Mode mode() {
    return mode;
  }

  public String name() {
    return name;
  }

  /** The bundle's version, or the head bundle's after {@link #swapHead}: what verdicts record. */
  @Override
  public String version() {
    return version;
  }

  /** The profiles for this mode's score (placeholders, marked uncalibrated, when the bundle has none for it). */
  public ThresholdProfiles thresholds() {
    return thresholds;
  }

  /** The sha256 of the backbone weight files, or null for a SPAI-only bundle. */
  public BackboneHashes backboneHashes() {
    return backbones.hashes;
  }

  public SpaiModel spai() {
    return backbones.spai;
  }

  /** The semantic trunk, or null in spectral mode. */
  public ConvNextModel convnext() {
    return backbones.convnext;
  }

  public SpaiInputPolicy inputPolicy() {
    return backbones.spai.inputPolicy();
  }

  /** The device and precision of the backbones and the head. */
  public Placement placement() {
    return backbones.spai.placement();
  }

  /** The fusion head's config, or null in spectral mode. */
  public FusionConfig headConfig() {
    return head == null ? null : head.config();
  }

  /**
   * A copy of the fusion head's weights as the bundle stores them, float32 even when the head runs in fp16 (the
   * trainer's starting point must not be rounded), or null in spectral mode.
   */
  public java.util.Map<String, float[]> headState() {
    if (head == null) {
      return null;
    }
    if (headMaster == null) {
      return head.state();
    }
    java.util.Map<String, float[]> copy = new java.util.LinkedHashMap<>();
    headMaster.forEach((k, v) -> copy.put(k, v.clone()));
    return copy;
  }

  /** The head's stored float32 weights when {@code placement} runs it in reduced precision; null in float32. */
  private static java.util.Map<String, float[]> storedHeadState(ModelBundle bundle, FusionConfig cfg,
      Placement placement) throws BundleException {
    if (placement.precision() == Placement.Precision.FP32) {
      return null;
    }
    try (NDManager cpu = NDManager.newBaseManager(ai.djl.Device.cpu())) {
      return HeadBundle.loadComponent(bundle, cfg, cpu, null).state();
    }
  }

  @Override
  public Prepared prepare(RgbImage image) {
    SpaiPatches patches = backbones.spai.inputPolicy().patches(image);
    float[] semantic = mode == Mode.FUSION
        ? SemanticInput.of(image, backbones.spai.config().patch().size(), backbones.convnext.config().inputSize())
        : null;
    return new Prepared(image.width(), image.height(), patches, semantic);
  }

  @Override
  public List<ModelOutput> run(List<Prepared> batch, int maxPatches, StageTimes times) {
    ensureOpen();
    if (batch.isEmpty()) {
      return List.of();
    }
    StageTimes t = times != null ? times : new StageTimes();
    List<SpaiPatches> patches = new ArrayList<>(batch.size());
    for (Prepared p : batch) {
      patches.add(p.patches());
    }
    List<SpaiResult> spectral = backbones.spai.scoreAll(patches, maxPatches, new SpaiModel.StageClock() {
      @Override
      public void encoded(long nanos) {
        t.add(StageTimes.Stage.ENCODE, nanos);
      }

      @Override
      public void aggregated(long nanos) {
        t.add(StageTimes.Stage.AGGREGATE, nanos);
      }
    });
    int n = batch.size();
    List<ModelOutput> out = new ArrayList<>(n);
    if (mode == Mode.SPECTRAL) {
      for (SpaiResult r : spectral) {
        out.add(new ModelOutput(r.logit(), r.imageFeature(), r.patches(), null, null));
      }
      return out;
    }
    long t0 = System.nanoTime();
    int s = backbones.convnext.config().inputSize();
    int length = 3 * s * s;
    float[] inputs = new float[n * length];
    for (int i = 0; i < n; i++) {
      float[] x = batch.get(i).semanticInput();
      if (x == null || x.length != length) {
        throw new IllegalArgumentException("image " + i + " of the batch was not prepared for fusion mode (semantic "
            + "input " + (x == null ? "missing" : x.length + " floats, expected " + length) + ")");
      }
      System.arraycopy(x, 0, inputs, i * length, length);
    }
    int c = backbones.convnext.config().featureDim();
    float[] semantic = backbones.convnext.features(inputs, n, Math.max(1, maxPatches));
    long t1 = System.nanoTime();
    t.add(StageTimes.Stage.SEMANTIC, t1 - t0);
    int d = backbones.spai.config().featureDim();
    float[] spectralFeatures = new float[n * d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(spectral.get(i).imageFeature(), 0, spectralFeatures, i * d, d);
    }
    float[] fused = fusedLogits(spectralFeatures, semantic, n);
    t.add(StageTimes.Stage.FUSE, System.nanoTime() - t1);
    for (int i = 0; i < n; i++) {
      SpaiResult r = spectral.get(i);
      out.add(new ModelOutput(r.logit(), r.imageFeature(), r.patches(),
          java.util.Arrays.copyOfRange(semantic, i * c, (i + 1) * c), fused[i]));
    }
    return out;
  }

  /** Scores one image (prepare + run), for callers without an engine. */
  public ModelOutput score(RgbImage image) {
    return run(List.of(prepare(image)), SpaiModel.DEFAULT_ENCODER_BATCH, null).get(0);
  }

  /**
   * The fusion head's logits from features computed earlier (cached by a caller or the trainer's feature store):
   * {@code spectral} n×D and {@code semantic} n×S, row-major. Eval mode, so the same features always give the same
   * logits. Thread-safe.
   */
  public float[] fusedLogits(float[] spectral, float[] semantic, int n) {
    ensureOpen();
    if (head == null) {
      throw new IllegalStateException("model " + name + " " + version + " runs in spectral mode and has no fusion head");
    }
    FusionConfig hc = head.config();
    if (spectral.length != (long) n * hc.spectralDim() || semantic.length != (long) n * hc.semanticDim()) {
      throw new IllegalArgumentException("expected " + n + "×" + hc.spectralDim() + " spectral and " + n + "×"
          + hc.semanticDim() + " semantic values, got " + spectral.length + " and " + semantic.length);
    }
    if (n == 0) {
      return new float[0];
    }
    try (NDManager m = headWeights.newSubManager()) {
      NDArray logits = head.forward(null, m.create(spectral, new Shape(n, hc.spectralDim())),
          m.create(semantic, new Shape(n, hc.semanticDim())), false);
      return Placement.toHost(logits);
    }
  }

  /** One image's fused logit from its cached features. */
  public float fusedLogit(float[] spectral, float[] semantic) {
    return fusedLogits(spectral, semantic, 1)[0];
  }

  /**
   * A model with {@code headBundle}'s fusion head and thresholds on this model's backbones, which it shares (no
   * backbone weights are read). This model stays usable until closed. Refused, with the reason, when the head was
   * trained on other backbones (sha256 of the weight files), when its sizes do not fit, when its thresholds were not
   * set on the fused score, or when this model runs in spectral mode.
   */
  public SemSpaiModel swapHead(HeadBundle headBundle) throws BundleException {
    ensureOpen();
    Path dir = headBundle.bundle().dir();
    if (mode != Mode.FUSION) {
      throw new BundleException(dir, null, "model " + name + " " + version + " runs in spectral mode, which uses "
          + "SPAI's own head; load it in fusion mode to use a fusion head");
    }
    if (!headBundle.trainedOn().equals(backbones.hashes)) {
      throw new BundleException(dir, null, "head " + headBundle.name() + " " + headBundle.version()
          + " was trained on other backbones (" + headBundle.trainedOn().shortForm() + ") than model " + name + " "
          + version + " runs (" + backbones.hashes.shortForm() + "); refusing to swap it in: its features would "
          + "mean something else. Retrain the head on this model, or load the bundle it was trained with");
    }
    if (headBundle.thresholds().appliesTo() != ThresholdProfiles.Score.FUSED) {
      throw new BundleException(dir, null, "its thresholds were set on the " + headBundle.thresholds().appliesTo()
          .json() + " score, not the fused one");
    }
    checkFits(dir, HeadBundle.COMPONENT, headBundle.config(), backbones.spai.config(), backbones.convnext.config());
    Placement placement = placement();
    NDManager hm = placement.newManager();
    try {
      FusionHead h = headBundle.loadHead(hm, placement);
      java.util.Map<String, float[]> master = storedHeadState(headBundle.bundle(), headBundle.config(), placement);
      return new SemSpaiModel(backbones.retain(), Mode.FUSION, h, hm, master, headBundle.thresholds(),
          headBundle.name(), headBundle.version());
    } catch (BundleException | RuntimeException e) {
      hm.close();
      throw e;
    }
  }

  /**
   * Activation bytes per SPAI patch for the engine's budget. In fusion mode the trunk runs at most as many images
   * per call as the batch has patches, and every image has at least one patch, so the larger of a SPAI patch's and
   * a trunk image's activations bounds both stages (they run one after the other).
   */
  @Override
  public long bytesPerPatch() {
    Placement.Precision p = placement().precision();
    long spai = SpaiModel.estimatedActivationBytesPerPatch(backbones.spai.config(), p);
    return mode == Mode.FUSION
        ? Math.max(spai, ConvNextModel.estimatedActivationBytesPerImage(backbones.convnext.config(), p)) : spai;
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("model " + name + " " + version + " is closed");
    }
  }

  /** Frees this model's head; the backbones go when no model derived by {@link #swapHead} still uses them. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      if (headWeights != null) {
        headWeights.close();
      }
      backbones.release();
    }
  }
}
