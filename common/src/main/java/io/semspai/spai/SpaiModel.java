package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.bundle.StateDictLoader;
import io.semspai.image.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
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
   */
  public static final Predicate<String> UNUSED_UPSTREAM_KEYS = key -> {
    if (!key.startsWith("mfvit.vit.")) {
      return false;
    }
    String rest = key.substring("mfvit.vit.".length());
    return rest.startsWith("head.") || rest.startsWith("cls_blocks.") || rest.equals("cls_pos_embed")
        || rest.equals("actual_cls_token") || rest.startsWith("fc_norm.") || rest.startsWith("intermediate_fc_norm.");
  };

  private final SpaiConfig cfg;
  private final SpaiNetwork network;
  private final SpaiInputPolicy policy;
  private final NDManager weights;

  private SpaiModel(SpaiConfig cfg, SpaiNetwork network, SpaiInputPolicy policy, NDManager weights) {
    this.cfg = cfg;
    this.network = network;
    this.policy = policy;
    this.weights = weights;
  }

  /** What a SPAI state dict must hold for {@code cfg}. */
  public static StateDictLoader.Expectation expectation(SpaiConfig cfg) {
    SpaiNetwork net = new SpaiNetwork(cfg);
    return new StateDictLoader.Expectation(net.stateShapes(), net.stateDataTypes(), UNUSED_UPSTREAM_KEYS);
  }

  /** Loads the {@code spai} component of a bundle, verifying its checksum and every key and shape. */
  public static SpaiModel load(ModelBundle bundle) throws BundleException {
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
    NDManager manager = NDManager.newBaseManager();
    try {
      Map<String, NDArray> state = bundle.load(COMPONENT, expectation(cfg), manager);
      return build(cfg, policy, manager, state);
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
    NDManager manager = NDManager.newBaseManager();
    try {
      Map<String, NDArray> state = StateDictLoader.load(file, null, expectation(cfg), manager);
      return build(cfg, new NativeInputPolicy(cfg.patch()), manager, state);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  private static SpaiModel build(
      SpaiConfig cfg, SpaiInputPolicy policy, NDManager manager, Map<String, NDArray> state) {
    SpaiNetwork net = new SpaiNetwork(cfg);
    net.load(state);
    return new SpaiModel(cfg, net, policy, manager);
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

  /** Cuts, encodes, aggregates and classifies one image. */
  public SpaiResult score(RgbImage image) {
    return score(policy.patches(image));
  }

  /** Scores an image that is already cut into patches. */
  public SpaiResult score(SpaiPatches patches) {
    int s = patches.size();
    int l = patches.count();
    int d = cfg.featureDim();
    try (NDManager m = weights.newSubManager()) {
      NDArray input = m.create(patches.pixels(), new Shape(l, 3, s, s));
      NDArray features = network.encodePatches(null, input, false);
      SpaiNetwork.Aggregation agg = network.aggregate(null, features, false);
      NDArray logit = network.classify(null, agg.feature(), false);
      float lg = logit.toType(DataType.FLOAT32, false).getFloat(0);
      float[] flat = features.toFloatArray();
      float[][] perPatch = new float[l][];
      for (int i = 0; i < l; i++) {
        perPatch[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
      }
      float[] attention = agg.attention().toFloatArray();
      List<SpaiResult.PatchAttention> boxes = new ArrayList<>(l);
      for (int i = 0; i < l; i++) {
        boxes.add(new SpaiResult.PatchAttention(patches.boxes().get(i), attention[i]));
      }
      return new SpaiResult(lg, SpaiResult.sigmoid(lg), agg.feature().toFloatArray(), boxes, perPatch,
          patches.crop());
    }
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
