package io.semspai.eval;

import java.util.Objects;

/**
 * A threshold profile as the detector applies it: AI when {@code score >= tHigh}, REAL when {@code score < tLow},
 * UNCERTAIN in between. The bundle manifest's profiles convert to this one-to-one.
 */
public record EvalProfile(String name, double tLow, double tHigh) {
  public EvalProfile {
    Objects.requireNonNull(name, "name");
    if (!(tLow >= 0 && tHigh <= 1 && tLow <= tHigh)) {
      throw new IllegalArgumentException(
          "profile " + name + ": need 0 <= t_low <= t_high <= 1, got t_low=" + tLow + " t_high=" + tHigh);
    }
  }
}
