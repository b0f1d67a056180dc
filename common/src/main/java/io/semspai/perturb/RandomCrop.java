package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/**
 * Keeps a window of {@code fraction} of each side (sizes as {@link CenterCrop}) at a position drawn uniformly from
 * the seeded generator: the same seed crops the same window.
 */
public record RandomCrop(double fraction) implements Perturbation {
  public RandomCrop {
    if (!(fraction > 0 && fraction <= 1)) {
      throw new PerturbationSpecException("rcrop=" + fraction + ": the kept fraction must be in (0, 1]");
    }
  }

  @Override
  public PerturbationKind kind() {
    return PerturbationKind.RCROP;
  }

  @Override
  public double strength() {
    return fraction;
  }

  @Override
  public boolean isIdentity() {
    return fraction == 1;
  }

  @Override
  public RgbImage apply(RgbImage image, SplittableRandom random) {
    int cw = CenterCrop.keep(image.width(), fraction);
    int ch = CenterCrop.keep(image.height(), fraction);
    int x0 = random.nextInt(image.width() - cw + 1);
    int y0 = random.nextInt(image.height() - ch + 1);
    return CenterCrop.crop(image, x0, y0, cw, ch);
  }
}
