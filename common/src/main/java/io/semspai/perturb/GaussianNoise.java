package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/**
 * Adds independent N(0, sigma^2) noise to every sample on the 0-255 scale, then clips to [0, 255] and truncates to
 * an integer, as albumentations 1.4's {@code GaussNoise(var_limit=(s^2, s^2))} does (its {@code clip} ends in
 * {@code astype(uint8)}, which truncates; that bias of about -0.5 is upstream's and is kept). The draw order is
 * row-major, channel-interleaved; the generator is the only source of randomness.
 */
public record GaussianNoise(double sigma) implements Perturbation {
  public GaussianNoise {
    if (!(sigma >= 0) || Double.isInfinite(sigma)) {
      throw new PerturbationSpecException("noise=" + sigma + ": sigma must be a finite number >= 0");
    }
  }

  @Override
  public PerturbationKind kind() {
    return PerturbationKind.NOISE;
  }

  @Override
  public double strength() {
    return sigma;
  }

  @Override
  public boolean isIdentity() {
    return sigma == 0;
  }

  @Override
  public RgbImage apply(RgbImage image, SplittableRandom random) {
    if (isIdentity()) {
      return image;
    }
    byte[] in = image.rgb();
    byte[] out = new byte[in.length];
    for (int i = 0; i < in.length; i++) {
      double v = (in[i] & 0xFF) + sigma * random.nextGaussian();
      out[i] = (byte) (v <= 0 ? 0 : v >= 255 ? 255 : (int) v);
    }
    return new RgbImage(image.width(), image.height(), out);
  }
}
