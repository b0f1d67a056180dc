package io.semspai.image;

import java.util.Objects;

/**
 * A decoded image as the models see it: 8-bit RGB, row-major, interleaved (H×W×3), exactly the
 * pixels PIL's {@code Image.open(...).convert("RGB")} gives (alpha dropped, gray copied to R, G, B).
 */
public final class RgbImage {
  private final int width;
  private final int height;
  private final byte[] rgb;

  public RgbImage(int width, int height, byte[] rgb) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
    }
    Objects.requireNonNull(rgb, "rgb");
    if (rgb.length != (long) width * height * 3) {
      throw new IllegalArgumentException(
          "expected " + ((long) width * height * 3) + " RGB bytes for " + width + "x" + height + ", got " + rgb.length);
    }
    this.width = width;
    this.height = height;
    this.rgb = rgb;
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** The interleaved RGB bytes; callers must not modify them. */
  public byte[] rgb() {
    return rgb;
  }

  public int pixelCount() {
    return width * height;
  }

  /**
   * Channel-first floats in [0,1]. Upstream scales with {@code v * float32(1/255)}, not {@code v / 255}; the
   * two differ in the last bit for some values, so the multiplication is kept on purpose.
   */
  public float[] toChwUnitFloats() {
    final float scale = 1f / 255f;
    int n = width * height;
    float[] out = new float[3 * n];
    for (int i = 0; i < n; i++) {
      out[i] = (rgb[3 * i] & 0xFF) * scale;
      out[n + i] = (rgb[3 * i + 1] & 0xFF) * scale;
      out[2 * n + i] = (rgb[3 * i + 2] & 0xFF) * scale;
    }
    return out;
  }
}
