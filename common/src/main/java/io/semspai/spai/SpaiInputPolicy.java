package io.semspai.spai;

import io.semspai.image.RgbImage;

/**
 * How an image becomes SPAI patches. {@code native} is upstream SPAI's own path ({@link NativeInputPolicy});
 * Sem-SPAI's test path resized every image to a fixed square first ({@code resize:N}), which the semantic issue
 * adds as a second implementation. The policy's {@link #spec()} string is what a bundle manifest records.
 */
public interface SpaiInputPolicy {
  SpaiPatches patches(RgbImage image);

  /** The manifest form: {@code native} or {@code resize:N}. */
  String spec();

  /** Parses a manifest's policy string for the given patch settings. */
  static SpaiInputPolicy parse(String spec, SpaiConfig.Patch patch) {
    if (spec == null || spec.equals("native")) {
      return new NativeInputPolicy(patch);
    }
    if (spec.matches("resize:[1-9][0-9]*")) {
      throw new IllegalArgumentException(
          "SPAI input policy '" + spec + "' is not available yet: it comes with the semantic branch (issue 6)");
    }
    throw new IllegalArgumentException("unknown SPAI input policy '" + spec + "' (expected native or resize:N)");
  }
}
