package io.semspai.perturb;

import java.math.BigDecimal;

/** Parsing and printing of perturbation strengths. */
final class Specs {
  private Specs() {}

  static double number(PerturbationKind kind, String value) {
    String v = value == null ? "" : value.trim();
    if (v.isEmpty()) {
      throw new PerturbationSpecException(kind.key() + " needs a value: " + kind.key() + "=<" + kind.meaning() + ">");
    }
    try {
      double d = Double.parseDouble(v);
      if (!Double.isFinite(d) || v.endsWith("d") || v.endsWith("D") || v.endsWith("f") || v.endsWith("F")) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new PerturbationSpecException(
          kind.key() + "=" + v + ": '" + v + "' is not a number (" + kind.meaning() + ")");
    }
  }

  static int quality(PerturbationKind kind, String value, double v) {
    if (v != Math.rint(v) || v < 0 || v > 100) {
      throw new PerturbationSpecException(
          kind.key() + "=" + value.trim() + ": quality must be a whole number from 0 to 100");
    }
    return (int) v;
  }

  static double atLeast(PerturbationKind kind, String value, double v, double min, boolean strict) {
    if (strict ? !(v > min) : !(v >= min)) {
      throw new PerturbationSpecException(kind.key() + "=" + value.trim() + ": must be "
          + (strict ? "greater than " : "at least ") + format(min) + " (" + kind.meaning() + ")");
    }
    return v;
  }

  static double fraction(PerturbationKind kind, String value, double v) {
    if (!(v > 0 && v <= 1)) {
      throw new PerturbationSpecException(
          kind.key() + "=" + value.trim() + ": must be in (0, 1], the fraction of each side that is kept");
    }
    return v;
  }

  /** Shortest plain decimal: 75 not 75.0, 0.5 not 5E-1. */
  static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }
}
