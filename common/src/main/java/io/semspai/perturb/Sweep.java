package io.semspai.perturb;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The strengths of {@code --sweep kind=v1,v2,...} options (repeatable, one kind each). Each strength is evaluated
 * on its own, on top of whatever {@code --perturb} sets.
 */
public final class Sweep {
  /** One swept kind and its strengths in the order given. */
  public record Axis(PerturbationKind kind, List<Perturbation> values) {}

  private final List<Axis> axes;

  private Sweep(List<Axis> axes) {
    this.axes = List.copyOf(axes);
  }

  public static Sweep parse(List<String> options) {
    List<Axis> axes = new ArrayList<>();
    EnumSet<PerturbationKind> seen = EnumSet.noneOf(PerturbationKind.class);
    for (String option : options) {
      String o = option == null ? "" : option.trim();
      int eq = o.indexOf('=');
      if (eq <= 0) {
        throw new PerturbationSpecException(
            "--sweep '" + o + "' is not kind=v1,v2,...; e.g. --sweep jpeg=95,85,75,50; kinds: " + PerturbationKind.keys());
      }
      PerturbationKind kind = PerturbationKind.fromKey(o.substring(0, eq));
      if (!seen.add(kind)) {
        throw new PerturbationSpecException("--sweep " + kind.key() + " is given twice; list all its strengths in one");
      }
      List<Perturbation> values = new ArrayList<>();
      List<String> typed = new ArrayList<>();
      for (String v : o.substring(eq + 1).split(",", -1)) {
        if (v.contains("=")) {
          throw new PerturbationSpecException("--sweep " + o + ": '" + v.trim()
              + "' is not a strength; give one kind per --sweep and repeat --sweep for more kinds");
        }
        Perturbation p = Perturbation.of(kind, v);
        if (typed.contains(p.spec())) {
          throw new PerturbationSpecException("--sweep " + o + ": strength " + v.trim() + " is listed twice");
        }
        typed.add(p.spec());
        values.add(p);
      }
      axes.add(new Axis(kind, values));
    }
    return new Sweep(axes);
  }

  public List<Axis> axes() {
    return axes;
  }

  public boolean isEmpty() {
    return axes.isEmpty();
  }

  /** Every strength of every axis as its own pipeline on top of {@code base}, in the order given. */
  public List<SweepPoint> points(PerturbationPipeline base) {
    List<SweepPoint> points = new ArrayList<>();
    for (Axis axis : axes) {
      for (Perturbation p : axis.values()) {
        points.add(new SweepPoint(axis.kind(), p, base.with(p)));
      }
    }
    return points;
  }
}
