package io.semspai.image;

import java.util.Objects;

/**
 * A decoded image and what the decoder learned about it.
 *
 * @param format the format found by magic bytes
 * @param image the RGB pixels as PIL's {@code convert("RGB")} gives them (rotated only when
 *     {@code intake.apply-exif-orientation} is on)
 * @param exifOrientation the EXIF Orientation tag, 1 when absent
 * @param orientationApplied whether {@code image} was rotated/flipped by it
 */
public record DecodedImage(ImageFormat format, RgbImage image, int exifOrientation, boolean orientationApplied) {
  public DecodedImage {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(image, "image");
  }
}
