package io.semspai.perturb;

import io.semspai.image.RgbImage;

/**
 * A perturbed image. When the last operation that changed the image was JPEG compression, {@code jpegBytes} holds
 * the encoded file, so a saved derivative keeps exactly that compression instead of being re-encoded.
 */
public record Perturbed(RgbImage image, byte[] jpegBytes) {
  public boolean hasJpegBytes() {
    return jpegBytes != null;
  }

  /** "jpg" when the JPEG bytes are kept, otherwise "png" (lossless, so nothing is added). */
  public String fileExtension() {
    return jpegBytes != null ? "jpg" : "png";
  }
}
