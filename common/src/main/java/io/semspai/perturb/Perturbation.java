package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/**
 * One derivative-image operation on 8-bit RGB. Implementations are immutable values; randomness comes only from
 * the generator passed in, so a seed reproduces the output exactly.
 */
public sealed interface Perturbation
    permits JpegCompression, GaussianBlur, GaussianNoise, Rescale, CenterCrop, RandomCrop {
  PerturbationKind kind();

  /** The strength as a number (quality, sigma, factor, fraction). */
  double strength();

  RgbImage apply(RgbImage image, SplittableRandom random);

  /** True when the operation leaves every image unchanged (blur 0, noise 0, scale 1, crop 1). */
  boolean isIdentity();

  /** {@code kind=value} as typed on the command line, e.g. {@code jpeg=75}. */
  default String spec() {
    return kind().key() + "=" + Specs.format(strength());
  }

  /** Builds the operation for a kind from its typed value, validating the range. */
  static Perturbation of(PerturbationKind kind, String value) {
    double v = Specs.number(kind, value);
    return switch (kind) {
      case JPEG -> new JpegCompression(Specs.quality(kind, value, v));
      case WEBP -> throw new PerturbationSpecException(
          "webp=" + value.trim() + ": WebP encoding is not available. No pure-Java WebP encoder is published on "
              + "Maven Central (TwelveMonkeys' imageio-webp only decodes), and this project takes no native "
              + "libwebp binding. Make the WebP derivatives elsewhere (e.g. Debian's cwebp -q " + value.trim()
              + ") and evaluate them as a CSV.");
      case BLUR -> new GaussianBlur(Specs.atLeast(kind, value, v, 0, false));
      case NOISE -> new GaussianNoise(Specs.atLeast(kind, value, v, 0, false));
      case SCALE -> new Rescale(Specs.atLeast(kind, value, v, 0, true));
      case CROP -> new CenterCrop(Specs.fraction(kind, value, v));
      case RCROP -> new RandomCrop(Specs.fraction(kind, value, v));
    };
  }
}
