package io.semspai.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;

/** {@code torch.nn.Conv2d} with square kernel, stride and padding: {@code weight} is out×in/groups×k×k. */
public final class TorchConv2d extends TorchModule {
  private final int stride;
  private final int padding;
  private final int groups;
  private final Parameter weight;
  private final Parameter bias;

  public TorchConv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean hasBias) {
    if (in % groups != 0 || out % groups != 0) {
      throw new IllegalArgumentException("channels " + in + "→" + out + " not divisible by groups " + groups);
    }
    this.stride = stride;
    this.padding = padding;
    this.groups = groups;
    this.weight = param("weight", new Shape(out, in / groups, kernel, kernel));
    this.bias = hasBias ? param("bias", new Shape(out), Parameter.Type.BIAS) : null;
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    return Conv2d.conv2d(
            x,
            value(ps, weight, x, training),
            bias == null ? null : value(ps, bias, x, training),
            new Shape(stride, stride),
            new Shape(padding, padding),
            new Shape(1, 1),
            groups)
        .singletonOrThrow();
  }
}
