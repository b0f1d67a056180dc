package io.semspai.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.UnaryOperator;

/**
 * Native memory discipline for forward passes. An op's result belongs to the manager of its first operand, so
 * intermediates of a block pile up until that manager closes: {@link #scoped} runs one step in a child scope and
 * keeps only its result; {@link #own} pulls a result that was computed from a parameter (whose manager lives as
 * long as the model) into the caller's scope before it can leak there.
 */
public final class Scopes {
  private Scopes() {}

  /** Runs {@code step} on {@code input} in a child scope; returns its result in the input's manager. */
  public static NDArray scoped(NDArray input, UnaryOperator<NDArray> step) {
    NDManager parent = input.getManager();
    try (NDManager scope = parent.newSubManager()) {
      input.tempAttach(scope);
      NDArray out = step.apply(input);
      if (out == input) {
        throw new IllegalStateException("a scoped step must return a new array");
      }
      out.attach(parent);
      return out;
    }
  }

  /** Moves {@code array} (typically derived from a parameter) into {@code manager}; returns it. */
  public static NDArray own(NDManager manager, NDArray array) {
    array.attach(manager);
    return array;
  }
}
