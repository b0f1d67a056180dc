package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.semspai.nn.Scopes;
import io.semspai.nn.TorchContainer;
import io.semspai.nn.TorchConv2d;
import io.semspai.nn.TorchLayerNorm;
import io.semspai.nn.TorchLinear;
import io.semspai.nn.TorchModule;
import java.util.ArrayList;
import java.util.List;

/**
 * SPAI's backbone ({@code mfvit.vit}): the BEiT-style ViT that MFM pre-trained. Pre-norm blocks, qkv without bias
 * plus separate {@code q_bias} and {@code v_bias} (k has none), exact-erf GELU, learned absolute position embedding
 * with a CLS token, no layer scale. SPAI reads the raw output of each block without the CLS token and never uses
 * the final norm or head, so neither is built here (their checkpoint tensors are ignored by the loader).
 */
public final class VisionTransformer extends TorchModule {
  /** Receives the tokens (B×T×E, CLS dropped) after block {@code index}; owns nothing, must not close them. */
  @FunctionalInterface
  public interface BlockOutputConsumer {
    void accept(int index, NDArray tokens);
  }

  private final SpaiConfig.Vit cfg;
  private final TorchConv2d patchEmbed;
  private final Parameter clsToken;
  private final Parameter posEmbed;
  private final List<Block> blocks = new ArrayList<>();

  public VisionTransformer(SpaiConfig.Vit cfg) {
    this.cfg = cfg;
    TorchContainer pe = module("patch_embed", new TorchContainer());
    patchEmbed = pe.add("proj", new TorchConv2d(3, cfg.embedDim(), cfg.patchSize(), cfg.patchSize(), 0, 1, true));
    clsToken = param("cls_token", new Shape(1, 1, cfg.embedDim()));
    posEmbed = param("pos_embed", new Shape(1, cfg.tokens() + 1, cfg.embedDim()));
    TorchContainer bs = module("blocks", new TorchContainer());
    for (int i = 0; i < cfg.depth(); i++) {
      blocks.add(bs.add(Integer.toString(i), new Block(cfg)));
    }
  }

  /**
   * Runs the ViT on B×3×S×S normalised images and hands each block's output, without the CLS token, to
   * {@code consumer}, block by block; stops after the last block some consumer needs ({@code lastBlock}).
   * Each block runs in its own NDManager scope so only the running token tensor outlives it.
   */
  public void forEachBlock(
      ParameterStore ps, NDArray images, boolean training, int lastBlock, BlockOutputConsumer consumer) {
    NDArray x = Scopes.scoped(images, in -> embed(ps, in, training));
    try {
      for (int i = 0; i <= lastBlock; i++) {
        Block block = blocks.get(i);
        NDArray next = Scopes.scoped(x, t -> block.forward(ps, t, training));
        x.close();
        x = next;
        try (NDArray tokens = x.get(":, 1:, :")) {
          consumer.accept(i, tokens);
        }
      }
    } finally {
      x.close();
    }
  }

  /** All block outputs (depth × B×T×E, CLS dropped), as upstream's {@code return_features=True} stacks them. */
  public List<NDArray> blockOutputs(ParameterStore ps, NDArray images, boolean training) {
    List<NDArray> out = new ArrayList<>();
    forEachBlock(ps, images, training, cfg.depth() - 1, (i, tokens) -> out.add(tokens.duplicate()));
    return out;
  }

  private NDArray embed(ParameterStore ps, NDArray images, boolean training) {
    long b = images.getShape().get(0);
    NDArray patches = patchEmbed.forward(ps, images, training) // B×E×g×g
        .reshape(b, cfg.embedDim(), cfg.tokens())
        .transpose(0, 2, 1);
    // zeros first, so the CLS copy belongs to this scope rather than to the parameter's manager
    NDArray cls = patches.get(":, :1, :").zerosLike().add(value(ps, clsToken, images, training));
    return cls.concat(patches, 1).add(value(ps, posEmbed, images, training));
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    throw new UnsupportedOperationException("use forEachBlock or blockOutputs: SPAI reads every block's output");
  }

  /** One pre-norm transformer block: {@code x + attn(norm1(x))}, then {@code x + mlp(norm2(x))}. */
  static final class Block extends TorchModule {
    private final TorchLayerNorm norm1;
    private final Attention attn;
    private final TorchLayerNorm norm2;
    private final TorchLinear fc1;
    private final TorchLinear fc2;

    Block(SpaiConfig.Vit cfg) {
      norm1 = module("norm1", new TorchLayerNorm(cfg.embedDim(), cfg.layerNormEps()));
      attn = module("attn", new Attention(cfg.embedDim(), cfg.numHeads()));
      norm2 = module("norm2", new TorchLayerNorm(cfg.embedDim(), cfg.layerNormEps()));
      TorchContainer mlp = module("mlp", new TorchContainer());
      fc1 = mlp.add("fc1", new TorchLinear(cfg.embedDim(), cfg.mlpHidden(), true));
      fc2 = mlp.add("fc2", new TorchLinear(cfg.mlpHidden(), cfg.embedDim(), true));
    }

    @Override
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
      NDArray h = x.add(attn.forward(ps, norm1.forward(ps, x, training), training));
      NDArray m = fc2.forward(ps, Activation.gelu(fc1.forward(ps, norm2.forward(ps, h, training), training)), training);
      return h.add(m);
    }
  }

  /** BEiT attention: qkv Linear without bias, bias vector {@code cat(q_bias, 0, v_bias)}; q scaled before q·kᵀ. */
  static final class Attention extends TorchModule {
    private final int dim;
    private final int heads;
    private final float scale;
    private final TorchLinear qkvWeightOnly;
    private final Parameter qBias;
    private final Parameter vBias;
    private final TorchLinear proj;

    Attention(int dim, int heads) {
      this.dim = dim;
      this.heads = heads;
      this.scale = (float) Math.pow(dim / heads, -0.5);
      qkvWeightOnly = module("qkv", new TorchLinear(dim, 3 * dim, false));
      qBias = param("q_bias", new Shape(dim), Parameter.Type.BIAS);
      vBias = param("v_bias", new Shape(dim), Parameter.Type.BIAS);
      proj = module("proj", new TorchLinear(dim, dim, true));
    }

    @Override
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
      long b = x.getShape().get(0);
      long t = x.getShape().get(1);
      int d = dim / heads;
      NDArray q = value(ps, qBias, x, training);
      NDArray v = value(ps, vBias, x, training);
      // cat(q_bias, zeros, v_bias) built in this scope: a zeros array first so nothing lands on the weights' manager
      NDArray zeros = x.getManager().zeros(new Shape(dim), x.getDataType());
      NDArray bias = zeros.add(q).concat(zeros, 0).concat(zeros.add(v), 0);
      NDArray qkv = qkvWeightOnly.forwardWithBias(ps, x, bias, training) // B×T×3E
          .reshape(b, t, 3, heads, d)
          .transpose(2, 0, 3, 1, 4); // 3×B×H×T×d
      NDArray qs = qkv.get(0).mul(scale);
      NDArray ks = qkv.get(1);
      NDArray vs = qkv.get(2);
      NDArray attn = qs.matMul(ks.transpose(0, 1, 3, 2)).softmax(-1);
      NDArray out = attn.matMul(vs).transpose(0, 2, 1, 3).reshape(b, t, dim);
      return proj.forward(ps, out, training);
    }
  }
}
