package io.semspai.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;

/**
 * {@code torch.nn.LayerNorm} over the last dimension, with torch's names ({@code weight}, {@code bias}). Calls the
 * functional layer norm with the normalised shape, which sidesteps DJL's block that breaks on negative axes.
 */
public final class TorchLayerNorm extends TorchModule {
  private final int dim;
  private final float eps;
  private final Parameter weight;
  private final Parameter bias;

  public TorchLayerNorm(int dim, double eps) {
    this.dim = dim;
    this.eps = (float) eps;
    this.weight = param("weight", new Shape(dim), Parameter.Type.GAMMA);
    this.bias = param("bias", new Shape(dim), Parameter.Type.BETA);
  }

  public double eps() {
    return eps;
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    return LayerNorm.layerNorm(
            x, new Shape(dim), value(ps, weight, x, training), value(ps, bias, x, training), eps)
        .singletonOrThrow();
  }
}
