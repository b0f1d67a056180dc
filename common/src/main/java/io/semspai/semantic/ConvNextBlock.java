package io.semspai.semantic;

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

/**
 * timm {@code ConvNeXtBlock} with {@code conv_mlp=False}, as in {@code convnext_xxlarge}: depthwise 7×7 conv,
 * channels-last LayerNorm, Linear to {@code mlp_ratio}×, exact GELU, Linear back, layer scale ({@code gamma}, a
 * direct parameter in OpenCLIP's files, not {@code ls.gamma}), residual. Drop-path is an identity (eval only).
 */
public final class ConvNextBlock extends TorchModule {
  private final TorchConv2d convDw;
  private final TorchLayerNorm norm;
  private final TorchLinear fc1;
  private final TorchLinear fc2;
  private final Parameter gamma;

  public ConvNextBlock(int dim, ConvNextConfig cfg) {
    convDw = module("conv_dw", new TorchConv2d(dim, dim, cfg.dwconv().kernel(), 1, cfg.dwconv().padding(), dim,
        true));
    norm = module("norm", new TorchLayerNorm(dim, cfg.layerNormEps()));
    TorchContainer mlp = module("mlp", new TorchContainer());
    fc1 = mlp.add("fc1", new TorchLinear(dim, cfg.mlpRatio() * dim, true));
    fc2 = mlp.add("fc2", new TorchLinear(cfg.mlpRatio() * dim, dim, true));
    gamma = param("gamma", new Shape(dim));
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    return Scopes.scoped(x, in -> {
      // channels-last from the depthwise conv on; gamma scales the last axis there, which is the same product
      // as upstream's gamma.reshape(1, -1, 1, 1) after permuting back
      NDArray h = convDw.forward(ps, in, training).transpose(0, 2, 3, 1);
      h = norm.forward(ps, h, training);
      h = fc2.forward(ps, Activation.gelu(fc1.forward(ps, h, training)), training);
      h = h.mul(value(ps, gamma, in, training));
      return h.transpose(0, 3, 1, 2).add(in);
    });
  }
}
