package io.semspai.eval;

/** What one row produced: a score and its logit, or the intake/engine reason code that stopped it. */
public record RowScore(double score, double logit, String errorCode) {
  public static RowScore of(double score, double logit) {
    if (!Double.isFinite(score) || !Double.isFinite(logit)) {
      throw new IllegalArgumentException("score and logit must be finite, got " + score + ", " + logit);
    }
    return new RowScore(score, logit, null);
  }

  public static RowScore error(String code) {
    return new RowScore(Double.NaN, Double.NaN, java.util.Objects.requireNonNull(code, "code"));
  }

  public boolean isError() {
    return errorCode != null;
  }
}
