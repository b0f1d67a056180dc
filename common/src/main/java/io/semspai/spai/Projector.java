package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import io.semspai.nn.TorchContainer;
import io.semspai.nn.TorchLayerNorm;
import io.semspai.nn.TorchLinear;
import io.semspai.nn.TorchModule;

/**
 * Upstream {@code Projector}: {@code [norm1] → projector = Sequential(Dropout, Linear, GELU, Dropout, Linear,
 * last activation, Dropout) → norm2}. The dropouts are identities at inference; the Linear layers keep their
 * Sequential indices 1 and 4. The per-layer patch projectors have an input norm and an Identity last activation;
 * the feature-importance projectors have no input norm and end in GELU.
 */
public final class Projector extends TorchModule {
  private final TorchLayerNorm norm1;
  private final TorchLinear fc1;
  private final TorchLinear fc2;
  private final boolean lastGelu;
  private final TorchLayerNorm norm2;

  public Projector(int in, int out, boolean inputNorm, boolean lastGelu) {
    this.norm1 = inputNorm ? module("norm1", new TorchLayerNorm(in, SpaiConfig.TORCH_LAYER_NORM_EPS)) : null;
    TorchContainer seq = module("projector", new TorchContainer());
    this.fc1 = seq.add("1", new TorchLinear(in, out, true));
    this.fc2 = seq.add("4", new TorchLinear(out, out, true));
    this.lastGelu = lastGelu;
    this.norm2 = module("norm2", new TorchLayerNorm(out, SpaiConfig.TORCH_LAYER_NORM_EPS));
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    NDArray h = norm1 == null ? x : norm1.forward(ps, x, training);
    h = fc2.forward(ps, Activation.gelu(fc1.forward(ps, h, training)), training);
    if (lastGelu) {
      h = Activation.gelu(h);
    }
    return norm2.forward(ps, h, training);
  }
}
