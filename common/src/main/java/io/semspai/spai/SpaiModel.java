package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.bundle.StateDictLoader;
import io.semspai.image.RgbImage;
import io.semspai.nn.Placement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * SPAI end to end: weights loaded from a bundle, images in, {@link SpaiResult}s out. All patches of an image go
 * through the encoder in one batch, as upstream does. Each call works in its own NDManager, closed before it
 * returns, and reads the weights without modifying them; the weights' native memory is freed by {@link #close()}.
 *
 * <p>The three stages are exposed through {@link #network()} for an engine that batches patches across images.
 */
public final class SpaiModel implements AutoCloseable {
  public static final String COMPONENT = "spai";
  public static final String FILE = "spai.safetensors";
  public static final String INPUT_POLICY = "input_policy";

  /**
   * Checkpoint tensors that upstream's forward never uses (spec §6): the ViT's classifier, its CLS-attention
   * blocks and their norms. Upstream loads with {@code strict=False}; they are skipped here, not errors.
   *
   * <p>The ViT's final {@code norm} and {@code cls_norm} are skipped too. The released checkpoint has neither
   * ({@code use_mean_pooling=True} makes them Identity), but a ViT built with {@code use_mean_pooling=False} has
   * both as LayerNorms; SPAI reads raw block outputs ({@code return_features}), so neither ever touches a score.
   */
  public static final Predicate<String> UNUSED_UPSTREAM_KEYS = key -> {
    if (!key.startsWith("mfvit.vit.")) {
      return false;
    }
    String rest = key.substring("mfvit.vit.".length());
    return rest.startsWith("head.") || rest.startsWith("cls_blocks.") || rest.equals("cls_pos_embed")
        || rest.equals("actual_cls_token") || rest.startsWith("fc_norm.") || rest.startsWith("intermediate_fc_norm.")
        || rest.startsWith("norm.") || rest.startsWith("cls_norm.");
  };

  /**
   * Patches encoded per forward call. Upstream pushes up to 400 through at once (a GPU setting); each full-size
   * patch costs tens of MB of activations here (3 ViT passes), so a 4000×3000 image's 221 patches go through in
   * chunks instead. Patch features do not depend on what they are batched with, so this changes no value.
   */
  public static final int DEFAULT_ENCODER_BATCH = 16;

  private final SpaiConfig cfg;
  private final SpaiNetwork network;
  private final SpaiInputPolicy policy;
  private final NDManager weights;
  private final Placement placement;

  private SpaiModel(SpaiConfig cfg, SpaiNetwork network, SpaiInputPolicy policy, NDManager weights,
      Placement placement) {
    this.cfg = cfg;
    this.network = network;
    this.policy = policy;
    this.weights = weights;
    this.placement = placement;
  }

  /** What a SPAI state dict must hold for {@code cfg}. */
  public static StateDictLoader.Expectation expectation(SpaiConfig cfg) {
    SpaiNetwork net = new SpaiNetwork(cfg);
    return new StateDictLoader.Expectation(net.stateShapes(), net.stateDataTypes(), UNUSED_UPSTREAM_KEYS);
  }

  /** Loads the {@code spai} component of a bundle on the CPU in float32. */
  public static SpaiModel load(ModelBundle bundle) throws BundleException {
    return load(bundle, Placement.CPU);
  }

  /**
   * Loads the {@code spai} component of a bundle, verifying its checksum and every key and shape, onto the
   * placement's device in its precision.
   */
  public static SpaiModel load(ModelBundle bundle, Placement placement) throws BundleException {
    BundleManifest.Component c = bundle.component(COMPONENT);
    SpaiConfig cfg;
    try {
      cfg = new com.fasterxml.jackson.databind.ObjectMapper().treeToValue(c.architecture(), SpaiConfig.class);
    } catch (IOException | IllegalArgumentException e) {
      throw new BundleException(bundle.dir(), COMPONENT, "architecture is not a valid SPAI config: "
          + rootMessage(e), e);
    }
    SpaiInputPolicy policy;
    try {
      policy = SpaiInputPolicy.parse(c.setting(INPUT_POLICY, "native"), cfg.patch());
    } catch (IllegalArgumentException e) {
      throw new BundleException(bundle.dir(), COMPONENT, e.getMessage(), e);
    }
    NDManager manager = placement.newManager();
    try {
      Map<String, NDArray> state = bundle.load(COMPONENT, expectation(cfg), manager);
      return build(cfg, policy, manager, state, placement);
    } catch (BundleException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  public static SpaiModel load(Path bundleDir) throws BundleException {
    return load(ModelBundle.open(bundleDir));
  }

  /** Loads a bare safetensors state dict (upstream key names) without a manifest: for fixtures and imports. */
  public static SpaiModel fromSafetensors(SpaiConfig cfg, Path file) throws IOException {
    NDManager manager = Placement.CPU.newManager();
    try {
      Map<String, NDArray> state = StateDictLoader.load(file, null, expectation(cfg), manager);
      return build(cfg, new NativeInputPolicy(cfg.patch()), manager, state, Placement.CPU);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * A model over arrays already in memory (keys as {@link #expectation}), for benchmarks and tools that build
   * weights themselves; takes ownership of {@code manager}, which must hold the arrays.
   */
  public static SpaiModel fromArrays(SpaiConfig cfg, Map<String, NDArray> state, NDManager manager) {
    return fromArrays(cfg, state, manager, Placement.CPU);
  }

  /** {@link #fromArrays(SpaiConfig, Map, NDManager)} moved to the placement's device and cast to its precision. */
  public static SpaiModel fromArrays(SpaiConfig cfg, Map<String, NDArray> state, NDManager manager,
      Placement placement) {
    return build(cfg, new NativeInputPolicy(cfg.patch()), manager, state, placement);
  }

  private static SpaiModel build(SpaiConfig cfg, SpaiInputPolicy policy, NDManager manager,
      Map<String, NDArray> state, Placement placement) {
    if (!manager.getDevice().equals(placement.device())) {
      throw new IllegalArgumentException("weights manager is on " + manager.getDevice() + ", the model is placed on "
          + placement.device() + ": every array a forward creates must come from the model's device");
    }
    SpaiNetwork net = new SpaiNetwork(cfg);
    net.load(state, placement);
    return new SpaiModel(cfg, net, policy, manager, placement);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  public SpaiConfig config() {
    return cfg;
  }

  public SpaiNetwork network() {
    return network;
  }

  public SpaiInputPolicy inputPolicy() {
    return policy;
  }

  /** The device and precision the weights live in. */
  public Placement placement() {
    return placement;
  }

  /** Cuts, encodes, aggregates and classifies one image. */
  public SpaiResult score(RgbImage image) {
    return score(policy.patches(image));
  }

  /** Scores an image that is already cut into patches. */
  public SpaiResult score(SpaiPatches patches) {
    return score(patches, DEFAULT_ENCODER_BATCH);
  }

  /** Scores an image that is already cut into patches, encoding at most {@code encoderBatch} at a time. */
  public SpaiResult score(SpaiPatches patches, int encoderBatch) {
    return scoreAll(List.of(patches), encoderBatch).get(0);
  }

  /**
   * Scores several images at once, the way a batching engine wants: the patches of all images are packed into
   * encoder calls of at most {@code encoderBatch} patches (a call may span images), then regrouped per image for
   * the attention, and the heads of all images run as one batch. Results come back in input order and equal
   * {@link #score(SpaiPatches)} of each image alone (patch features do not depend on their batch-mates).
   * Patches with identical pixels, within an image or across images, are encoded once.
   */
  public List<SpaiResult> scoreAll(List<SpaiPatches> images, int encoderBatch) {
    return scoreAll(images, encoderBatch, null);
  }

  /** Receives how long each stage of {@link #scoreAll} took, for an engine's per-stage metrics. */
  public interface StageClock {
    /** Stage (a): every encoder chunk of the call. */
    void encoded(long nanos);

    /** Stages (b) and (c): attention per image and the batched head. */
    void aggregated(long nanos);
  }

  /** {@link #scoreAll(List, int)}, reporting stage times to {@code clock} (may be null). */
  public List<SpaiResult> scoreAll(List<SpaiPatches> images, int encoderBatch, StageClock clock) {
    if (encoderBatch < 1) {
      throw new IllegalArgumentException("encoderBatch must be positive, got " + encoderBatch);
    }
    int s = cfg.patch().size();
    int d = cfg.featureDim();
    int total = 0;
    for (SpaiPatches p : images) {
      if (p.size() != s) {
        throw new IllegalArgumentException("patches are " + p.size() + " px, this model takes " + s);
      }
      total += p.count();
    }
    if (images.isEmpty()) {
      return List.of();
    }
    int patchLength = 3 * s * s;
    long t0 = System.nanoTime();
    try (NDManager m = weights.newSubManager()) {
      // stage (a): encode the distinct patches of the concatenated stream in chunks. A copy of a patch gets its
      // original's features instead of a second pass: a 224×224 image, or anything smaller padded to it, five-crops
      // into one patch five times, and a patch's features do not depend on its batch-mates.
      int[] imageOf = new int[total];
      int[] withinOf = new int[total];
      for (int i = 0, g = 0; i < images.size(); i++) {
        for (int k = 0; k < images.get(i).count(); k++, g++) {
          imageOf[g] = i;
          withinOf[g] = k;
        }
      }
      int[] original = originals(images, imageOf, withinOf, patchLength);
      int[] distinct = java.util.stream.IntStream.range(0, total).filter(g -> original[g] == g).toArray();
      float[] features = new float[total * d];
      for (int start = 0; start < distinct.length; start += encoderBatch) {
        int n = Math.min(encoderBatch, distinct.length - start);
        float[] chunk = new float[n * patchLength];
        for (int j = 0; j < n; j++) {
          int g = distinct[start + j];
          System.arraycopy(images.get(imageOf[g]).pixels(), withinOf[g] * patchLength, chunk, j * patchLength,
              patchLength);
        }
        try (NDManager scope = m.newSubManager()) {
          float[] encoded =
              Placement.toHost(network.encodePatches(null, scope.create(chunk, new Shape(n, 3, s, s)), false));
          for (int j = 0; j < n; j++) {
            System.arraycopy(encoded, j * d, features, distinct[start + j] * d, d);
          }
        }
      }
      for (int g = 0; g < total; g++) {
        if (original[g] != g) {
          System.arraycopy(features, original[g] * d, features, g * d, d);
        }
      }
      long t1 = System.nanoTime();
      if (clock != null) {
        clock.encoded(t1 - t0);
      }
      // stage (b): attention per image; stage (c): one head batch
      NDArray all = m.create(features, new Shape(total, d));
      List<float[]> attention = new ArrayList<>();
      NDList imageFeatures = new NDList();
      int offset = 0;
      for (SpaiPatches p : images) {
        SpaiNetwork.Aggregation agg =
            network.aggregate(null, all.get(offset + ":" + (offset + p.count())), false);
        attention.add(Placement.toHost(agg.attention()));
        imageFeatures.add(agg.feature());
        offset += p.count();
      }
      NDArray stacked = NDArrays.stack(imageFeatures, 0);
      float[] logits = Placement.toHost(network.classify(null, stacked, false));
      float[] featureValues = Placement.toHost(stacked);
      List<SpaiResult> out = new ArrayList<>(images.size());
      offset = 0;
      for (int i = 0; i < images.size(); i++) {
        SpaiPatches p = images.get(i);
        float[][] perPatch = new float[p.count()][];
        List<SpaiResult.PatchAttention> boxes = new ArrayList<>(p.count());
        for (int k = 0; k < p.count(); k++) {
          perPatch[k] = Arrays.copyOfRange(features, (offset + k) * d, (offset + k + 1) * d);
          boxes.add(new SpaiResult.PatchAttention(p.boxes().get(k), attention.get(i)[k]));
        }
        offset += p.count();
        out.add(new SpaiResult(logits[i], SpaiResult.sigmoid(logits[i]),
            Arrays.copyOfRange(featureValues, i * d, (i + 1) * d), boxes, perPatch, p.crop()));
      }
      if (clock != null) {
        clock.aggregated(System.nanoTime() - t1);
      }
      return out;
    }
  }

  /** For each patch of the stream, the index of the first patch with the same pixels (itself if none came before). */
  private static int[] originals(List<SpaiPatches> images, int[] imageOf, int[] withinOf, int patchLength) {
    int total = imageOf.length;
    int[] original = new int[total];
    Map<Integer, List<Integer>> byHash = new java.util.HashMap<>();
    for (int g = 0; g < total; g++) {
      float[] px = images.get(imageOf[g]).pixels();
      int from = withinOf[g] * patchLength;
      int h = 1;
      for (int i = from; i < from + patchLength; i++) {
        h = 31 * h + Float.floatToIntBits(px[i]);
      }
      original[g] = g;
      List<Integer> seen = byHash.computeIfAbsent(h, x -> new ArrayList<>());
      for (int o : seen) {
        int oFrom = withinOf[o] * patchLength;
        if (Arrays.equals(images.get(imageOf[o]).pixels(), oFrom, oFrom + patchLength, px, from, from + patchLength)) {
          original[g] = o;
          break;
        }
      }
      if (original[g] == g) {
        seen.add(g);
      }
    }
    return original;
  }

  /** How many distinct patches (by pixels) an image has: the encoder passes {@link #score} spends on it. */
  public static int distinctPatches(SpaiPatches patches) {
    int[] imageOf = new int[patches.count()];
    int[] withinOf = new int[patches.count()];
    for (int k = 0; k < withinOf.length; k++) {
      withinOf[k] = k;
    }
    int[] original = originals(List.of(patches), imageOf, withinOf, patches.patchLength());
    int n = 0;
    for (int g = 0; g < original.length; g++) {
      n += original[g] == g ? 1 : 0;
    }
    return n;
  }

  /**
   * A rough upper bound of the native bytes one patch needs while it is encoded in fp32: the three ViT images'
   * largest block intermediates (qkv, attention matrix, MLP hidden, residual copies) plus one layer's projected
   * tokens in the FRE. Full preset: about 40 MB. For memory budgets, not for accounting.
   */
  public static long estimatedActivationBytesPerPatch(SpaiConfig cfg) {
    return estimatedActivationBytesPerPatch(cfg, Placement.Precision.FP32);
  }

  /**
   * {@link #estimatedActivationBytesPerPatch(SpaiConfig)} in {@code precision}: the ViT's part scales with the bytes
   * per element (halves in fp16); the FRE's projected tokens are counted at 4 bytes, as its statistics run in
   * float32 whatever the precision.
   */
  public static long estimatedActivationBytesPerPatch(SpaiConfig cfg, Placement.Precision precision) {
    long t = cfg.vit().tokens() + 1;
    long e = cfg.vit().embedDim();
    long perImage = t * (3 * e + cfg.vit().mlpHidden() + 6 * e) + (long) cfg.vit().numHeads() * t * t * 2;
    long fre = 3L * cfg.vit().tokens() * cfg.fre().projectionDim() * 4;
    return (long) precision.bytes() * 3 * perImage + 4 * fre;
  }

  /** The manager holding the weights (tests check that scoring leaves nothing in it). */
  NDManager weightsManager() {
    return weights;
  }

  @Override
  public void close() {
    weights.close();
  }
}
