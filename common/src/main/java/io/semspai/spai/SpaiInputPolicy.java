package io.semspai.spai;

import io.semspai.image.RgbImage;

/**
 * How an image becomes SPAI patches; the policy's {@link #spec()} string is what a bundle manifest records:
 *
 * <ul>
 *   <li>{@code native} (the default): upstream SPAI's own pad, grid and five-crop path ({@link NativeInputPolicy});
 *   <li>{@code resize:N}: Sem-SPAI's test path, pad then resize to N×N, grid, no five-crop
 *       ({@link ResizeInputPolicy});
 *   <li>{@code native_grid}: Sem-SPAI with {@code SPAI_INPUT_SIZE: None}, i.e. native size through
 *       {@code forward_batch}: pad and grid, no five-crop however few patches there are.
 * </ul>
 */
public interface SpaiInputPolicy {
  SpaiPatches patches(RgbImage image);

  /** The manifest form: {@code native}, {@code native_grid} or {@code resize:N}. */
  String spec();

  /** Parses a manifest's policy string for the given patch settings. */
  static SpaiInputPolicy parse(String spec, SpaiConfig.Patch patch) {
    if (spec == null || spec.equals("native")) {
      return new NativeInputPolicy(patch);
    }
    if (spec.equals(NativeInputPolicy.GRID_ONLY)) {
      return NativeInputPolicy.gridOnly(patch);
    }
    if (spec.matches("resize:[1-9][0-9]{0,4}")) {
      return new ResizeInputPolicy(patch, Integer.parseInt(spec.substring("resize:".length())));
    }
    throw new IllegalArgumentException(
        "unknown SPAI input policy '" + spec + "' (expected native, native_grid or resize:N)");
  }
}
