package io.semspai.spai;

import java.util.List;

/**
 * An image cut into SPAI patches: {@code count} patches of 3×size×size floats in [0,1], channel-first and
 * contiguous ({@code pixels.length == count·3·size²}), each with its box in the original image.
 */
public record SpaiPatches(
    int imageWidth, int imageHeight, Crop crop, int size, float[] pixels, List<PatchBox> boxes) {
  /** How the patches were chosen. */
  public enum Crop {
    /** Non-overlapping grid over the padded image, row-major (upstream's unfold). */
    GRID,
    /** torchvision {@code five_crop}: tl, tr, bl, br, centre; used when the grid yields too few patches. */
    FIVE_CROP,
    /** Grid over the image resized to a fixed square first (Sem-SPAI's {@code resize:N}); never five-crop. */
    RESIZE
  }

  public SpaiPatches {
    boxes = List.copyOf(boxes);
    if (pixels.length != (long) boxes.size() * 3 * size * size) {
      throw new IllegalArgumentException(
          "pixels hold " + pixels.length + " floats, expected " + boxes.size() + "·3·" + size + "²");
    }
  }

  public int count() {
    return boxes.size();
  }

  /** Floats per patch (3·size²). */
  public int patchLength() {
    return 3 * size * size;
  }
}
