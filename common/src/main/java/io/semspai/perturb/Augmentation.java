package io.semspai.perturb;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random derivative copies for training ({@code train-head --augment}): each copy is one perturbation of a kind
 * drawn uniformly from {@code kinds}, with a strength drawn uniformly from that kind's range. The default ranges
 * follow upstream's training augmentations where it has them (JPEG quality 50-100) and the derivative sweeps
 * otherwise. Deterministic per image seed, so a retrain sees the same copies.
 */
public final class Augmentation {
  /** A kind and the closed range its strength is drawn from. */
  public record Range(PerturbationKind kind, double min, double max) {
    public Range {
      if (kind == PerturbationKind.WEBP) {
        throw new PerturbationSpecException("webp cannot be used: no WebP encoder is available");
      }
      if (!(min <= max)) {
        throw new IllegalArgumentException(kind.key() + ": range min " + min + " > max " + max);
      }
      // Validates both ends now rather than at the first draw.
      Perturbation.of(kind, Specs.format(min));
      Perturbation.of(kind, Specs.format(max));
    }

    Perturbation draw(SplittableRandom random) {
      double v = min == max ? min : min + (max - min) * random.nextDouble();
      if (kind == PerturbationKind.JPEG) {
        v = Math.round(v);
      }
      return Perturbation.of(kind, Specs.format(v));
    }
  }

  /** JPEG 50-100, scale 0.5-1.5, blur sigma 0.5-2, centred crop keeping 70-95% of each side. */
  public static final Augmentation DEFAULT = new Augmentation(List.of(
      new Range(PerturbationKind.JPEG, 50, 100),
      new Range(PerturbationKind.SCALE, 0.5, 1.5),
      new Range(PerturbationKind.BLUR, 0.5, 2),
      new Range(PerturbationKind.CROP, 0.7, 0.95)));

  private final List<Range> ranges;

  public Augmentation(List<Range> ranges) {
    if (ranges.isEmpty()) {
      throw new IllegalArgumentException("augmentation needs at least one kind");
    }
    this.ranges = List.copyOf(ranges);
  }

  public List<Range> ranges() {
    return ranges;
  }

  /**
   * {@code k} pipelines for one image; apply each with the same {@code imageSeed} (see {@link Seeds#forImage}).
   */
  public List<PerturbationPipeline> copies(int k, long imageSeed) {
    if (k < 0) {
      throw new IllegalArgumentException("copies must be >= 0, got " + k);
    }
    SplittableRandom random = new SplittableRandom(Seeds.mix(imageSeed ^ 0x5DEECE66DL));
    List<PerturbationPipeline> out = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      Range r = ranges.get(random.nextInt(ranges.size()));
      out.add(PerturbationPipeline.of(r.draw(random)));
    }
    return out;
  }
}
