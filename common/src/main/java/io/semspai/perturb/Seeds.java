package io.semspai.perturb;

import java.nio.charset.StandardCharsets;

/** Deterministic seeds, so a derivative dataset can be rebuilt bit for bit from its base seed. */
public final class Seeds {
  private Seeds() {}

  /**
   * A per-image seed from a run's base seed and a stable key (the CSV's image cell, or a sha256): the same image
   * gets the same noise and crop in every run, whatever the order images are processed in.
   */
  public static long forImage(long baseSeed, String imageKey) {
    long h = 0xcbf29ce484222325L; // FNV-1a over UTF-8, stable across JVMs (String.hashCode is only 32 bits)
    for (byte b : imageKey.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x100000001b3L;
    }
    return mix(baseSeed ^ mix(h));
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
