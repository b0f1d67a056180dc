package io.semspai.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/**
 * A module that only groups children under a name, like {@code nn.ModuleList} or an {@code nn.Sequential} whose
 * owner calls the members itself (so {@code projector.1} and {@code projector.4} keep their torch indices).
 */
public final class TorchContainer extends TorchModule {
  public <M extends TorchModule> M add(String torchName, M child) {
    return module(torchName, child);
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    throw new UnsupportedOperationException("a container has no forward of its own");
  }
}
