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
 * timm {@code ConvNeXtStage}: for stages after the first, {@code downsample} = LayerNorm2d then a 2×2 stride-2
 * conv (keys {@code downsample.0}, {@code downsample.1}); then {@code blocks.0..depth-1}.
 */
public final class ConvNextStage extends TorchModule {
  private final LayerNorm2d downNorm;
  private final TorchConv2d downConv;
  private final List<ConvNextBlock> blocks = new ArrayList<>();

  public ConvNextStage(int inDim, int outDim, int depth, boolean downsample, ConvNextConfig cfg) {
    if (downsample) {
      TorchContainer d = module("downsample", new TorchContainer());
      downNorm = d.add("0", new LayerNorm2d(inDim, cfg.layerNormEps()));
      downConv = d.add("1", new TorchConv2d(inDim, outDim, 2, 2, 0, 1, true));
    } else {
      if (inDim != outDim) {
        throw new IllegalArgumentException("a stage without downsample keeps its width, got " + inDim + "→" + outDim);
      }
      downNorm = null;
      downConv = null;
    }
    TorchContainer b = module("blocks", new TorchContainer());
    for (int j = 0; j < depth; j++) {
      blocks.add(b.add(Integer.toString(j), new ConvNextBlock(outDim, cfg)));
    }
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    NDArray h = x;
    if (downConv != null) {
      h = Scopes.scoped(x, in -> downConv.forward(ps, downNorm.forward(ps, in, training), training));
    }
    for (ConvNextBlock block : blocks) {
      NDArray next = block.forward(ps, h, training);
      if (h != x) {
        h.close();
      }
      h = next;
    }
    return h;
  }
}
