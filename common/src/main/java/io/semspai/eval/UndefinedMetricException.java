package io.semspai.eval;

/** A metric asked of data that cannot define it, such as an AUC interval on a holdout with one class only. */
public class UndefinedMetricException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UndefinedMetricException(String message) {
    super(message);
  }
}
