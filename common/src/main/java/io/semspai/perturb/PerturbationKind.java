package io.semspai.perturb;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The derivative-image operations, declared in the order they are applied. Upstream SPAI's test transform applies
 * JPEG, then WebP, then Gaussian blur, then Gaussian noise, then rescaling ({@code TEST.*} keys); cropping comes last.
 * Whatever order a user types, a pipeline runs them in this order.
 */
public enum PerturbationKind {
  JPEG("jpeg", "JPEG quality (0-100)"),
  WEBP("webp", "WebP quality (0-100)"),
  BLUR("blur", "Gaussian sigma in pixels (kernel 2*ceil(3*sigma)+1)"),
  NOISE("noise", "Gaussian noise sigma on the 0-255 scale"),
  SCALE("scale", "resize factor (antialiased)"),
  CROP("crop", "fraction of each side kept, centred"),
  RCROP("rcrop", "fraction of each side kept, at a seeded random position");

  private final String key;
  private final String meaning;

  PerturbationKind(String key, String meaning) {
    this.key = key;
    this.meaning = meaning;
  }

  /** The name used on the command line. */
  public String key() {
    return key;
  }

  public String meaning() {
    return meaning;
  }

  /** Position in the application order; crop and rcrop share the last one (a pipeline has at most one of them). */
  public int stage() {
    return this == RCROP ? CROP.ordinal() : ordinal();
  }

  public static PerturbationKind fromKey(String key) {
    String k = key.trim().toLowerCase(Locale.ROOT);
    for (PerturbationKind kind : values()) {
      if (kind.key.equals(k)) {
        return kind;
      }
    }
    throw new PerturbationSpecException("unknown perturbation '" + key.trim() + "': expected one of " + keys());
  }

  static String keys() {
    return Arrays.stream(values()).map(PerturbationKind::key).collect(Collectors.joining(", "));
  }
}
