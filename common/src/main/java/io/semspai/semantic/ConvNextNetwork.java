package io.semspai.semantic;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import io.semspai.nn.Scopes;
import io.semspai.nn.TorchContainer;
import io.semspai.nn.TorchConv2d;
import io.semspai.nn.TorchModule;
import java.util.ArrayList;
import java.util.List;

/**
 * The semantic branch: OpenCLIP {@code convnext_xxlarge}'s visual trunk (timm layout), under the keys of an
 * OpenCLIP checkpoint ({@code visual.trunk.stem.0.weight}, {@code visual.trunk.stages.2.blocks.29.gamma},
 * {@code visual.trunk.head.norm.bias}, …), so each checkpoint tensor maps to one parameter.
 *
 * <pre>
 * stem       conv k4 s4 → LayerNorm2d                                   visual.trunk.stem.{0,1}
 * stage i    [LayerNorm2d → conv k2 s2] (i ≥ 1) → blocks                visual.trunk.stages.{i}.downsample.{0,1}
 * head.norm  LayerNorm2d on the unpooled C×h×w map                      visual.trunk.head.norm
 * feature    global average pool → C (3072)
 * </pre>
 *
 * Sem-SPAI sets {@code head.global_pool} and {@code head.flatten} to Identity and pools afterwards, so the norm
 * comes first and the pool second; OpenCLIP's own order (pool, then norm) gives different features (by up to ~1.9).
 * OpenCLIP's projection {@code visual.head.proj} and the text tower are not part of this network.
 */
public final class ConvNextNetwork extends TorchModule {
  /** Every key of this network starts with this; other keys of an OpenCLIP file are not used. */
  public static final String PREFIX = "visual.trunk.";

  private final ConvNextConfig cfg;
  private final TorchConv2d stemConv;
  private final LayerNorm2d stemNorm;
  private final List<ConvNextStage> stages = new ArrayList<>();
  private final LayerNorm2d headNorm;

  public ConvNextNetwork(ConvNextConfig cfg) {
    this.cfg = cfg;
    TorchContainer trunk = module("visual", new TorchContainer()).add("trunk", new TorchContainer());
    TorchContainer stem = trunk.add("stem", new TorchContainer());
    List<Integer> dims = cfg.dims();
    stemConv = stem.add("0", new TorchConv2d(3, dims.get(0), cfg.stem().kernel(), cfg.stem().stride(), 0, 1, true));
    stemNorm = stem.add("1", new LayerNorm2d(dims.get(0), cfg.layerNormEps()));
    TorchContainer s = trunk.add("stages", new TorchContainer());
    int prev = dims.get(0);
    for (int i = 0; i < cfg.stages(); i++) {
      stages.add(s.add(Integer.toString(i), new ConvNextStage(prev, dims.get(i), cfg.depths().get(i), i > 0, cfg)));
      prev = dims.get(i);
    }
    headNorm = trunk.add("head", new TorchContainer()).add("norm", new LayerNorm2d(prev, cfg.layerNormEps()));
  }

  public ConvNextConfig config() {
    return cfg;
  }

  /** N×3×S×S ImageNet-normalised input → the last stage's N×C×h×w map, before {@code head.norm}. */
  public NDArray forwardMap(ParameterStore ps, NDArray x, boolean training) {
    NDArray h = Scopes.scoped(x, in -> stemNorm.forward(ps, stemConv.forward(ps, toComputeType(in), training),
        training));
    for (ConvNextStage stage : stages) {
      NDArray next = stage.forward(ps, h, training);
      if (next != h) {
        h.close();
      }
      h = next;
    }
    return h;
  }

  /** {@code head.norm} on an unpooled map: N×C×h×w → N×C×h×w. */
  public NDArray headNorm(ParameterStore ps, NDArray map, boolean training) {
    return headNorm.forward(ps, map, training);
  }

  /** The semantic feature, Sem-SPAI's way: {@code head.norm} on the map, then the mean over h×w → N×C. */
  public NDArray features(ParameterStore ps, NDArray x, boolean training) {
    NDArray map = forwardMap(ps, x, training);
    NDArray out = Scopes.scoped(map, m -> {
      NDArray normed = headNorm.forward(ps, m, training);
      long[] s = normed.getShape().getShape();
      return normed.reshape(s[0], s[1], s[2] * s[3]).mean(new int[] {2}); // DJL's mean takes one axis
    });
    map.close();
    return out;
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    return features(ps, x, training);
  }
}
