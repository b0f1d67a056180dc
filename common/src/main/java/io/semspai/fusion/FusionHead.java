package io.semspai.fusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import io.semspai.nn.Placement;
import io.semspai.nn.TorchContainer;
import io.semspai.nn.TorchLayerNorm;
import io.semspai.nn.TorchLinear;
import io.semspai.nn.TorchModule;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Sem-SPAI's late-fusion head ({@code SemanticContextModel} in {@code sid.py}), under its state-dict keys:
 *
 * <pre>
 * semantic_projection  LayerNorm(S) → Linear(S, P) → GELU → Dropout(0.5)          .0, .1
 * fusion_layer         Linear(D + P, F) → GELU → Dropout(0.5)  on cat[spectral, projected]     .0
 * classifier           Linear(D + F, F) → GELU → Dropout(0.5) → Linear(F, 1)  on cat[spectral, fused]  .0, .3
 * </pre>
 *
 * D is SPAI's image feature (1096), S the ConvNeXt feature (3072), P 256, F 512. The output is a logit; the score is
 * its sigmoid. Dropout acts only when {@code training} is true.
 *
 * <p>All three parts train ({@link #setTrainable}); upstream's main branch froze {@code fusion_layer} and
 * {@code classifier} at their random init by a name filter, which this project does not reproduce.
 */
public final class FusionHead extends TorchModule {
  /** Upstream's {@code MODEL.SEMANTIC_CONTEXT.DROPOUT}. */
  public static final float DROPOUT = 0.5f;

  /** Sem-SPAI's {@code _init_weights}: truncated normal with this std for every Linear weight, zero biases. */
  public static final double INIT_STD = 0.02;

  private final FusionConfig cfg;
  private final TorchLayerNorm projNorm;
  private final TorchLinear projLinear;
  private final TorchLinear fusion;
  private final TorchLinear classifier0;
  private final TorchLinear classifier3;

  public FusionHead(FusionConfig cfg) {
    this.cfg = cfg;
    TorchContainer sp = module("semantic_projection", new TorchContainer());
    projNorm = sp.add("0", new TorchLayerNorm(cfg.semanticDim(), cfg.layerNormEps()));
    projLinear = sp.add("1", new TorchLinear(cfg.semanticDim(), cfg.projectionDim(), true));
    fusion = module("fusion_layer", new TorchContainer())
        .add("0", new TorchLinear(cfg.spectralDim() + cfg.projectionDim(), cfg.fusionDim(), true));
    TorchContainer cl = module("classifier", new TorchContainer());
    classifier0 = cl.add("0", new TorchLinear(cfg.spectralDim() + cfg.fusionDim(), cfg.fusionDim(), true));
    classifier3 = cl.add("3", new TorchLinear(cfg.fusionDim(), 1, true));
  }

  public FusionConfig config() {
    return cfg;
  }

  /** A head holding {@code state} (keys as {@link #stateShapes()}), its arrays created in {@code manager}. */
  public static FusionHead of(FusionConfig cfg, Map<String, float[]> state, NDManager manager) {
    return of(cfg, state, manager, null);
  }

  /** {@link #of(FusionConfig, Map, NDManager)} on a device and precision (null: float32 in the manager). */
  public static FusionHead of(FusionConfig cfg, Map<String, float[]> state, NDManager manager, Placement placement) {
    FusionHead head = new FusionHead(cfg);
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> e : head.stateShapes().entrySet()) {
      float[] v = state.get(e.getKey());
      if (v == null) {
        throw new IllegalArgumentException("fusion head state lacks " + e.getKey());
      }
      arrays.put(e.getKey(), manager.create(v, e.getValue()));
    }
    head.loadState(arrays, placement);
    return head;
  }

  /** A copy of every weight, by key: what a head bundle stores. */
  public Map<String, float[]> state() {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : stateParameters().entrySet()) {
      out.put(e.getKey(), Placement.toHost(e.getValue().getArray()));
    }
    return out;
  }

  /**
   * Makes every head parameter (all three parts) record gradients, or freezes them again. The backbones are
   * separate modules and stay frozen.
   */
  public void setTrainable(boolean trainable) {
    for (Parameter p : stateParameters().values()) {
      p.freeze(!trainable);
    }
  }

  /**
   * Logits for a batch: {@code spectral} N×D and {@code semantic} N×S → N×1, in {@code spectral}'s manager.
   * With {@code training} the three dropouts are live (p = 0.5), as when upstream trained the head.
   */
  public NDArray forward(ParameterStore ps, NDArray spectral, NDArray semantic, boolean training) {
    if (spectral.getShape().dimension() != 2 || spectral.getShape().get(1) != cfg.spectralDim()
        || semantic.getShape().dimension() != 2 || semantic.getShape().get(1) != cfg.semanticDim()
        || spectral.getShape().get(0) != semantic.getShape().get(0)) {
      throw new IllegalArgumentException("fusion head takes N×" + cfg.spectralDim() + " spectral and N×"
          + cfg.semanticDim() + " semantic features, got " + spectral.getShape() + " and " + semantic.getShape());
    }
    NDManager parent = spectral.getManager();
    try (NDManager scope = parent.newSubManager()) {
      spectral.tempAttach(scope);
      semantic.tempAttach(scope);
      NDArray spectralIn = toComputeType(spectral);
      NDArray projected = dropout(Activation.gelu(projLinear.forward(ps,
          projNorm.forward(ps, toComputeType(semantic), training), training)), training);
      NDArray fused = dropout(Activation.gelu(fusion.forward(ps,
          NDArrays.concat(new NDList(spectralIn, projected), 1), training)), training);
      NDArray hidden = dropout(Activation.gelu(classifier0.forward(ps,
          NDArrays.concat(new NDList(spectralIn, fused), 1), training)), training);
      NDArray logits = classifier3.forward(ps, hidden, training);
      logits.attach(parent);
      return logits;
    }
  }

  private static NDArray dropout(NDArray x, boolean training) {
    return training ? Dropout.dropout(x, DROPOUT, true).singletonOrThrow() : x;
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    throw new UnsupportedOperationException("the fusion head takes two inputs: forward(ps, spectral, semantic, …)");
  }

  /**
   * Sem-SPAI's initialisation, seeded: Linear weights ~ truncated normal (std {@value #INIT_STD}, cut at ±2 as
   * timm's {@code trunc_normal_} does, i.e. at 100σ, so effectively a normal), biases 0, LayerNorm weight 1 and
   * bias 0. Each tensor draws from its own generator seeded by (seed, key).
   */
  public static Map<String, float[]> initialState(FusionConfig cfg, long seed) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> e : new FusionHead(cfg).stateShapes().entrySet()) {
      String key = e.getKey();
      float[] v = new float[Math.toIntExact(e.getValue().size())];
      boolean layerNorm = key.startsWith("semantic_projection.0.");
      if (layerNorm && key.endsWith(".weight")) {
        java.util.Arrays.fill(v, 1f);
      } else if (key.endsWith(".weight")) {
        SplittableRandom r = new SplittableRandom(mix(seed, key));
        for (int i = 0; i < v.length; i++) {
          double g;
          do {
            g = INIT_STD * gaussian(r);
          } while (g < -2 || g > 2);
          v[i] = (float) g;
        }
      }
      out.put(key, v);
    }
    return out;
  }

  /** Box–Muller (one of the pair), written out so the values never depend on the JDK's generator. */
  private static double gaussian(SplittableRandom r) {
    double u1 = 1.0 - r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2 * Math.PI * u2);
  }

  private static long mix(long seed, String key) {
    long z = seed * 0x9E3779B97F4A7C15L + key.hashCode() + 0x5EED;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Parameters of a head of this shape (2,309,889 for the full one). */
  public static long parameterCount(FusionConfig cfg) {
    long n = 0;
    for (Shape s : new FusionHead(cfg).stateShapes().values()) {
      n += s.size();
    }
    return n;
  }
}
