package io.semspai.semantic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import io.semspai.nn.TorchModule;

/**
 * timm {@code LayerNorm2d}: a LayerNorm over the channels of an N×C×H×W map (permute to channels-last, normalise,
 * permute back), with torch's parameter names {@code weight} and {@code bias}.
 */
public final class LayerNorm2d extends TorchModule {
  private final int channels;
  private final float eps;
  private final Parameter weight;
  private final Parameter bias;

  public LayerNorm2d(int channels, double eps) {
    this.channels = channels;
    this.eps = (float) eps;
    this.weight = param("weight", new Shape(channels), Parameter.Type.GAMMA);
    this.bias = param("bias", new Shape(channels), Parameter.Type.BETA);
  }

  public double eps() {
    return eps;
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    NDArray nhwc = x.transpose(0, 2, 3, 1);
    NDArray normed = LayerNorm.layerNorm(
            nhwc, new Shape(channels), value(ps, weight, x, training), value(ps, bias, x, training), eps)
        .singletonOrThrow();
    return normed.transpose(0, 3, 1, 2);
  }
}
