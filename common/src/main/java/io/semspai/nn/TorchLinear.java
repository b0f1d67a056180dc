package io.semspai.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

/** {@code torch.nn.Linear}: {@code weight} is out×in, {@code bias} optional. */
public final class TorchLinear extends TorchModule {
  private final int in;
  private final int out;
  private final Parameter weight;
  private final Parameter bias;

  public TorchLinear(int in, int out, boolean hasBias) {
    this.in = in;
    this.out = out;
    this.weight = param("weight", new Shape(out, in));
    this.bias = hasBias ? param("bias", new Shape(out), Parameter.Type.BIAS) : null;
  }

  public int inFeatures() {
    return in;
  }

  public int outFeatures() {
    return out;
  }

  /**
   * {@code F.linear(x, weight, bias)} with a bias the caller computed (BEiT's {@code cat(q_bias, 0, v_bias)}), so
   * the bias is fused into the same addmm as torch does.
   */
  public NDArray forwardWithBias(ParameterStore ps, NDArray x, NDArray externalBias, boolean training) {
    return Linear.linear(x, value(ps, weight, x, training), externalBias).singletonOrThrow();
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    NDArray w = value(ps, weight, x, training);
    return bias == null
        ? Linear.linear(x, w).singletonOrThrow()
        : Linear.linear(x, w, value(ps, bias, x, training)).singletonOrThrow();
  }
}
