package io.semspai.fusion;

import io.semspai.eval.EvalProfile;
import java.util.Objects;

/**
 * A named pair of thresholds on a score in [0,1]: AI when {@code score >= tHigh}, REAL when {@code score < tLow},
 * UNCERTAIN in between. With {@code tLow == tHigh} there is no UNCERTAIN band. Accuracy and false-positive rate are
 * measured at {@code tHigh}, with the UNCERTAIN rate reported beside them.
 */
public record ThresholdProfile(String name, double tLow, double tHigh) {
  /** The verdict a profile gives a score. */
  public enum Label { AI, REAL, UNCERTAIN }

  public ThresholdProfile {
    Objects.requireNonNull(name, "name");
    if (!(tLow >= 0 && tHigh <= 1 && tLow <= tHigh)) {
      throw new IllegalArgumentException(
          "threshold profile " + name + ": need 0 <= t_low <= t_high <= 1, got t_low=" + tLow + " t_high=" + tHigh);
    }
  }

  public Label label(double score) {
    if (Double.isNaN(score)) {
      throw new IllegalArgumentException("threshold profile " + name + ": score is NaN");
    }
    if (score >= tHigh) {
      return Label.AI;
    }
    return score < tLow ? Label.REAL : Label.UNCERTAIN;
  }

  /** The same profile for the offline evaluation. */
  public EvalProfile toEvalProfile() {
    return new EvalProfile(name, tLow, tHigh);
  }
}
