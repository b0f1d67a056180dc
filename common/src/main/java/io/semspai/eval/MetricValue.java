package io.semspai.eval;

import java.util.Locale;
import java.util.Objects;

/**
 * A metric that is either a number or undefined with a reason a person can read (for example AUC on a CSV that
 * holds only AI images). Never NaN: tables print the reason, JSON writes {@code null} plus the reason.
 */
public final class MetricValue {
  private final double value;
  private final String undefinedReason;

  private MetricValue(double value, String undefinedReason) {
    this.value = value;
    this.undefinedReason = undefinedReason;
  }

  public static MetricValue of(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("a defined metric must be finite, got " + value);
    }
    return new MetricValue(value, null);
  }

  public static MetricValue undefined(String reason) {
    return new MetricValue(Double.NaN, Objects.requireNonNull(reason, "reason"));
  }

  public boolean isDefined() {
    return undefinedReason == null;
  }

  /** The number; throws {@link UndefinedMetricException} with the reason when undefined. */
  public double value() {
    if (undefinedReason != null) {
      throw new UndefinedMetricException(undefinedReason);
    }
    return value;
  }

  public double orElse(double fallback) {
    return undefinedReason == null ? value : fallback;
  }

  /** Null when defined. */
  public String undefinedReason() {
    return undefinedReason;
  }

  /** Four decimals, or {@code n/a} when undefined (tables print the reason once, beside the row). */
  public String format() {
    return undefinedReason == null ? String.format(Locale.ROOT, "%.4f", value) : "n/a";
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof MetricValue)) {
      return false;
    }
    MetricValue other = (MetricValue) o;
    return Objects.equals(undefinedReason, other.undefinedReason)
        && (undefinedReason != null || Double.compare(value, other.value) == 0);
  }

  @Override
  public int hashCode() {
    return undefinedReason != null ? undefinedReason.hashCode() : Double.hashCode(value);
  }

  @Override
  public String toString() {
    return undefinedReason == null ? Double.toString(value) : "undefined (" + undefinedReason + ")";
  }
}
