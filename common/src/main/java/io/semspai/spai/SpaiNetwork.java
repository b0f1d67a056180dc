package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import io.semspai.nn.Scopes;
import io.semspai.nn.TorchContainer;
import io.semspai.nn.TorchLayerNorm;
import io.semspai.nn.TorchLinear;
import io.semspai.nn.TorchModule;
import java.util.Map;

/**
 * Upstream {@code PatchBasedMFViT}, the whole SPAI network, in three separately callable stages so a batching
 * engine can mix patches of many images in one encoder call:
 *
 * <ol>
 *   <li>{@link #encodePatches}: N×3×224×224 patches → N×D patch features ({@code mfvit});
 *   <li>{@link #aggregate}: one image's L×D patch features → the D image feature (Spectral Context Attention,
 *       then {@code norm}) and the L attention weights averaged over heads;
 *   <li>{@link #classify}: image feature(s) → logit ({@code cls_head}).
 * </ol>
 *
 * Parameter keys are upstream's {@code state_dict} keys. Dropout and drop-path are identities here: this class
 * only implements eval mode.
 */
public final class SpaiNetwork extends TorchModule {
  /** One image's aggregation: the post-LayerNorm feature (D) and attention per patch (L), averaged over heads. */
  public record Aggregation(NDArray feature, NDArray attention) implements AutoCloseable {
    @Override
    public void close() {
      feature.close();
      attention.close();
    }
  }

  private final SpaiConfig cfg;
  private final MfVit mfvit;
  private final ai.djl.nn.Parameter patchAggregator;
  private final TorchLinear toKv;
  private final TorchLinear toOut;
  private final TorchLayerNorm norm;
  private final TorchLinear head0;
  private final TorchLinear head3;
  private final TorchLinear head6;

  public SpaiNetwork(SpaiConfig cfg) {
    this.cfg = cfg;
    int d = cfg.featureDim();
    int attn = cfg.sca().attnEmbedDim();
    mfvit = module("mfvit", new MfVit(cfg));
    patchAggregator = param("patch_aggregator", new Shape(cfg.sca().numHeads(), 1, cfg.sca().headDim()));
    toKv = module("to_kv", new TorchLinear(d, 2 * attn, false));
    TorchContainer out = module("to_out", new TorchContainer());
    toOut = out.add("0", new TorchLinear(attn, d, false));
    norm = module("norm", new TorchLayerNorm(d, SpaiConfig.TORCH_LAYER_NORM_EPS));
    TorchContainer clsHead = module("cls_head", new TorchContainer());
    TorchContainer head = clsHead.add("head", new TorchContainer());
    int hidden = cfg.headHidden();
    head0 = head.add("0", new TorchLinear(d, hidden, true));
    head3 = head.add("3", new TorchLinear(hidden, hidden, true));
    head6 = head.add("6", new TorchLinear(hidden, 1, true));
  }

  public SpaiConfig config() {
    return cfg;
  }

  public MfVit mfvit() {
    return mfvit;
  }

  /** Loads every parameter (keys as {@link #stateShapes()}) and derives the frequency bands. */
  public void load(Map<String, NDArray> state) {
    load(state, null);
  }

  /** {@link #load(Map)} onto a device and precision (null: as the arrays are). */
  public void load(Map<String, NDArray> state, io.semspai.nn.Placement placement) {
    loadState(state, placement);
    mfvit.prepare();
  }

  /** Stage (a): N×3×S×S patches in [0,1] → N×D. */
  public NDArray encodePatches(ParameterStore ps, NDArray patches, boolean training) {
    return mfvit.encode(ps, patches, training);
  }

  /**
   * Stage (b), upstream {@code patches_attention} then {@code norm}: a learnable query per head attends over the
   * image's L patches ({@code softmax(q·kᵀ·scale)} over patches), {@code to_out} maps the heads back to D.
   */
  public Aggregation aggregate(ParameterStore ps, NDArray patchFeatures, boolean training) {
    Shape shape = patchFeatures.getShape();
    if (shape.dimension() != 2 || shape.get(1) != cfg.featureDim()) {
      throw new IllegalArgumentException("patch features must be L×" + cfg.featureDim() + ", got " + shape);
    }
    long l = shape.get(0);
    int heads = cfg.sca().numHeads();
    int dh = cfg.sca().headDim();
    int attn = cfg.sca().attnEmbedDim();
    NDManager parent = patchFeatures.getManager();
    try (NDManager scope = parent.newSubManager()) {
      patchFeatures.tempAttach(scope);
      NDArray kv = toKv.forward(ps, toComputeType(patchFeatures), training); // L×2A
      NDArray k = kv.get(":, 0:" + attn).reshape(l, heads, dh).transpose(1, 0, 2); // H×L×dh
      NDArray v = kv.get(":, " + attn + ":").reshape(l, heads, dh).transpose(1, 0, 2);
      NDArray query = value(ps, patchAggregator, patchFeatures, training); // H×1×dh
      NDArray dots = Scopes.own(scope, query.matMul(k.transpose(0, 2, 1))) // H×1×L
          .mul((float) Math.pow(dh, -0.5));
      NDArray weights = dots.softmax(-1);
      NDArray heads1 = weights.matMul(v).reshape(1, attn); // H×1×dh → 1×A (heads concatenated)
      NDArray feature = norm.forward(ps, toOut.forward(ps, heads1, training), training).reshape(cfg.featureDim());
      NDArray meanAttention = weights.reshape(heads, l).mean(new int[] {0});
      feature.attach(parent);
      meanAttention.attach(parent);
      return new Aggregation(feature, meanAttention);
    }
  }

  /** Stage (c), {@code cls_head}: …×D image features → …×1 logits (Linear, ReLU, Linear, ReLU, Linear). */
  public NDArray classify(ParameterStore ps, NDArray features, boolean training) {
    return Scopes.scoped(features, f -> {
      NDArray h = Activation.relu(head0.forward(ps, toComputeType(f), training));
      h = Activation.relu(head3.forward(ps, h, training));
      return head6.forward(ps, h, training);
    });
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    throw new UnsupportedOperationException("SPAI has three stages: encodePatches, aggregate, classify");
  }
}
