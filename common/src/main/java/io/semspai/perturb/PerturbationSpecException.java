package io.semspai.perturb;

/** A {@code --perturb} or {@code --sweep} argument that cannot be understood; the message says what to type. */
public class PerturbationSpecException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public PerturbationSpecException(String message) {
    super(message);
  }
}
