package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/**
 * Keeps a centred window of {@code fraction} of each side: {@code crop=0.8} on 1000x600 keeps 800x480. Sizes round
 * to the nearest pixel (at least 1); the offset is {@code (w - cw) / 2} rounded down, as albumentations'
 * {@code CenterCrop}.
 */
public record CenterCrop(double fraction) implements Perturbation {
  public CenterCrop {
    if (!(fraction > 0 && fraction <= 1)) {
      throw new PerturbationSpecException("crop=" + fraction + ": the kept fraction must be in (0, 1]");
    }
  }

  @Override
  public PerturbationKind kind() {
    return PerturbationKind.CROP;
  }

  @Override
  public double strength() {
    return fraction;
  }

  @Override
  public boolean isIdentity() {
    return fraction == 1;
  }

  static int keep(int size, double fraction) {
    return Math.max(1, Math.min(size, (int) Math.round(size * fraction)));
  }

  @Override
  public RgbImage apply(RgbImage image, SplittableRandom random) {
    int cw = keep(image.width(), fraction);
    int ch = keep(image.height(), fraction);
    return crop(image, (image.width() - cw) / 2, (image.height() - ch) / 2, cw, ch);
  }

  static RgbImage crop(RgbImage image, int x0, int y0, int cw, int ch) {
    if (x0 == 0 && y0 == 0 && cw == image.width() && ch == image.height()) {
      return image;
    }
    byte[] in = image.rgb();
    byte[] out = new byte[cw * ch * 3];
    for (int y = 0; y < ch; y++) {
      System.arraycopy(in, ((y0 + y) * image.width() + x0) * 3, out, y * cw * 3, cw * 3);
    }
    return new RgbImage(cw, ch, out);
  }
}
