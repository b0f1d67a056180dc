package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * An ordered set of perturbations, at most one per kind, always run in upstream's order (see
 * {@link PerturbationKind}) whatever order they were given in. Immutable and thread-safe; the seed passed to
 * {@link #apply} is the only randomness, and each operation draws from its own stream derived from it, so adding
 * noise does not move a random crop.
 */
public final class PerturbationPipeline {
  public static final PerturbationPipeline NONE = new PerturbationPipeline(List.of());

  private final List<Perturbation> steps;

  private PerturbationPipeline(List<Perturbation> steps) {
    this.steps = steps;
  }

  public static PerturbationPipeline of(List<? extends Perturbation> perturbations) {
    EnumSet<PerturbationKind> seen = EnumSet.noneOf(PerturbationKind.class);
    for (Perturbation p : perturbations) {
      if (!seen.add(p.kind())) {
        throw new PerturbationSpecException(p.kind().key() + " is given twice; give each perturbation once");
      }
    }
    if (seen.contains(PerturbationKind.CROP) && seen.contains(PerturbationKind.RCROP)) {
      throw new PerturbationSpecException("crop and rcrop cannot be combined: choose a centred or a random crop");
    }
    List<Perturbation> sorted = new ArrayList<>(perturbations);
    sorted.sort(Comparator.comparingInt(p -> p.kind().stage()));
    return new PerturbationPipeline(List.copyOf(sorted));
  }

  public static PerturbationPipeline of(Perturbation... perturbations) {
    return of(List.of(perturbations));
  }

  /**
   * Parses {@code --perturb kind=value[,kind=value...]}, e.g. {@code jpeg=75,scale=0.5}. Null or blank means none.
   *
   * @throws PerturbationSpecException naming the bad part and what would be accepted
   */
  public static PerturbationPipeline parse(String spec) {
    if (spec == null || spec.isBlank()) {
      return NONE;
    }
    List<Perturbation> list = new ArrayList<>();
    for (String token : spec.split(",", -1)) {
      String t = token.trim();
      int eq = t.indexOf('=');
      if (eq <= 0) {
        throw new PerturbationSpecException("'" + t + "' in --perturb \"" + spec.trim()
            + "\" is not kind=value; kinds: " + PerturbationKind.keys());
      }
      list.add(Perturbation.of(PerturbationKind.fromKey(t.substring(0, eq)), t.substring(eq + 1)));
    }
    return of(list);
  }

  /** This pipeline plus one more operation (a sweep point on top of {@code --perturb}). */
  public PerturbationPipeline with(Perturbation extra) {
    for (Perturbation p : steps) {
      if (p.kind() == extra.kind()) {
        throw new PerturbationSpecException(extra.kind().key() + " is both in --perturb (" + p.spec()
            + ") and swept (" + extra.spec() + "); sweep a kind that --perturb does not set");
      }
    }
    List<Perturbation> list = new ArrayList<>(steps);
    list.add(extra);
    return of(list);
  }

  /** In application order. */
  public List<Perturbation> steps() {
    return steps;
  }

  public boolean isIdentity() {
    return steps.stream().allMatch(Perturbation::isIdentity);
  }

  /** Canonical text in application order, e.g. {@code jpeg=75,scale=0.5}; {@code none} when empty. */
  public String spec() {
    return steps.isEmpty() ? "none" : steps.stream().map(Perturbation::spec).collect(Collectors.joining(","));
  }

  /** Applies every step in order; {@code seed} is the image's seed (see {@link Seeds#forImage}). */
  public Perturbed apply(RgbImage image, long seed) {
    RgbImage current = image;
    byte[] jpeg = null;
    for (Perturbation p : steps) {
      if (p.isIdentity()) {
        continue;
      }
      SplittableRandom random = new SplittableRandom(Seeds.mix(seed + 0x9E3779B97F4A7C15L * (p.kind().ordinal() + 1)));
      if (p instanceof JpegCompression j) {
        jpeg = j.encode(current);
        current = JpegCompression.decode(jpeg);
      } else {
        RgbImage next = p.apply(current, random);
        if (next != current) {
          jpeg = null;
        }
        current = next;
      }
    }
    return new Perturbed(current, jpeg);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PerturbationPipeline other && steps.equals(other.steps);
  }

  @Override
  public int hashCode() {
    return steps.hashCode();
  }

  @Override
  public String toString() {
    return spec();
  }
}
