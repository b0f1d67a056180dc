package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.semspai.nn.Scopes;
import io.semspai.nn.TorchContainer;
import io.semspai.nn.TorchModule;
import java.util.ArrayList;
import java.util.List;

/**
 * Upstream {@code FrequencyRestorationEstimator} ({@code mfvit.features_processor}). Per intermediate layer the
 * shared projector maps the original, low-pass and high-pass tokens; the patch feature is
 * {@code [cos(o,l) mean, std, cos(o,h) mean, std, cos(l,h) mean, std]} (each over the layers, 6·L values) followed
 * by the feature-importance projection of the original tokens (P values). Every std is unbiased (n−1).
 *
 * <p>Upstream stacks all layers first (B×L×T×E); this computes each layer's statistics as soon as its block
 * output exists ({@link #layerStatistics}) and combines them in {@link #combine}. The arithmetic is the same, but
 * only one layer's projected tokens are alive at a time.
 *
 * <p>In reduced precision the projections run in the weights' dtype and the statistics in float32, so the N×(6L+P)
 * features are float32 either way.
 */
public final class FrequencyRestorationEstimator extends TorchModule {
  /** One layer's contribution: similarity statistics N×6 and original-token mean‖std N×2P. */
  public record LayerStatistics(NDArray similarities, NDArray originalStats) implements AutoCloseable {
    @Override
    public void close() {
      similarities.close();
      originalStats.close();
    }
  }

  private static final float COSINE_EPS = 1e-8f;

  private final SpaiConfig cfg;
  private final List<Projector> projectors = new ArrayList<>();
  private final FeatureImportanceProjector original;

  public FrequencyRestorationEstimator(SpaiConfig cfg) {
    this.cfg = cfg;
    int e = cfg.vit().embedDim();
    int p = cfg.fre().projectionDim();
    int layers = cfg.fre().layers();
    TorchContainer patchProjector = module("patch_projector", new TorchContainer());
    TorchContainer list = patchProjector.add("projectors", new TorchContainer());
    for (int i = 0; i < layers; i++) {
      projectors.add(list.add(Integer.toString(i), new Projector(e, p, true, false)));
    }
    original = module("original_features_processor", new FeatureImportanceProjector(layers, p));
  }

  /** The shared projector of intermediate layer {@code position}. */
  public Projector projector(int position) {
    return projectors.get(position);
  }

  /**
   * Statistics of intermediate layer {@code position} (an index into {@code fre.intermediate_layers}) from the
   * block output of the original, low and high images stacked as 3N×T×E, in that order.
   */
  public LayerStatistics layerStatistics(ParameterStore ps, int position, NDArray tokens, boolean training) {
    long n = tokens.getShape().get(0) / 3;
    NDManager parent = tokens.getManager();
    try (NDManager scope = parent.newSubManager()) {
      tokens.tempAttach(scope);
      // projected in the model's precision; the cosine and std statistics in float32, as autocast would run
      // cosine_similarity and sums: their values differ in the third decimal, below half precision's resolution
      NDArray projected = projectors.get(position).forward(ps, tokens, training).toType(DataType.FLOAT32, false);
      NDArray o = projected.get("0:" + n);
      NDArray l = projected.get(n + ":" + (2 * n));
      NDArray h = projected.get((2 * n) + ":");
      NDArray ol = cosine(o, l);
      NDArray oh = cosine(o, h);
      NDArray lh = cosine(l, h);
      NDArray sims = NDArrays.stack(
          new NDList(ol.mean(new int[] {1}), std(ol), oh.mean(new int[] {1}), std(oh), lh.mean(new int[] {1}),
              std(lh)),
          1); // N×6
      NDArray origStats = o.mean(new int[] {1}).concat(std(o), 1); // N×2P
      sims.attach(parent);
      origStats.attach(parent);
      return new LayerStatistics(sims, origStats);
    }
  }

  /** The N×(6L+P) patch features from every layer's statistics, in {@code intermediate_layers} order. */
  public NDArray combine(ParameterStore ps, List<LayerStatistics> layers, boolean training) {
    NDList simList = new NDList();
    NDList origList = new NDList();
    for (LayerStatistics s : layers) {
      simList.add(s.similarities());
      origList.add(s.originalStats());
    }
    NDArray first = simList.get(0);
    NDManager parent = first.getManager();
    try (NDManager scope = parent.newSubManager()) {
      long n = first.getShape().get(0);
      int count = layers.size();
      // N×L×6 → N×6×L: six blocks of L values, the order of upstream's cat of six B×L tensors
      NDArray sims = NDArrays.stack(simList, 1).transpose(0, 2, 1).reshape(n, 6L * count);
      sims.attach(scope);
      NDArray stats = NDArrays.stack(origList, 1); // N×L×2P
      stats.attach(scope);
      NDArray orig = original.forward(ps, original.toComputeType(stats), training) // N×P
          .toType(DataType.FLOAT32, false);
      NDArray out = sims.concat(orig, 1);
      out.attach(parent);
      return out;
    }
  }

  /** {@code F.cosine_similarity(a, b, dim=-1)}: a·b / (max(‖a‖, eps)·max(‖b‖, eps)). */
  static NDArray cosine(NDArray a, NDArray b) {
    NDArray dot = a.mul(b).sum(new int[] {-1});
    NDArray na = a.square().sum(new int[] {-1}).sqrt().maximum(COSINE_EPS);
    NDArray nb = b.square().sum(new int[] {-1}).sqrt().maximum(COSINE_EPS);
    return dot.div(na.mul(nb));
  }

  /** Unbiased standard deviation over axis 1, as {@code torch.std(x, dim=1)}. */
  static NDArray std(NDArray x) {
    long count = x.getShape().get(1);
    NDArray centred = x.sub(x.mean(new int[] {1}, true));
    return centred.square().sum(new int[] {1}).div((float) (count - 1)).sqrt();
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    throw new UnsupportedOperationException("use layerStatistics and combine");
  }

  /**
   * Upstream {@code FeatureImportanceProjector}: {@code proj1} maps each layer's mean‖std (2P) to P, the layers
   * are weighted by {@code softmax(alpha, dim=layers)} and summed, then {@code proj2}.
   */
  static final class FeatureImportanceProjector extends TorchModule {
    private final Parameter alpha;
    private final Projector proj1;
    private final Projector proj2;

    FeatureImportanceProjector(int layers, int p) {
      alpha = param("alpha", new Shape(1, layers, p));
      proj1 = module("proj1", new Projector(2 * p, p, false, true));
      proj2 = module("proj2", new Projector(p, p, false, true));
    }

    /** N×L×2P statistics → N×P. */
    @Override
    public NDArray forward(ParameterStore ps, NDArray stats, boolean training) {
      NDArray x = proj1.forward(ps, stats, training); // N×L×P
      NDArray weights = Scopes.own(x.getManager(), value(ps, alpha, x, training).softmax(1)); // over layers
      return proj2.forward(ps, x.mul(weights).sum(new int[] {1}), training);
    }
  }
}
