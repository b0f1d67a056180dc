package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Rounding and clamping to 8-bit samples, and the bridge to ImageIO for writing. */
public final class Pixels {
  private Pixels() {}

  /** A TYPE_3BYTE_BGR copy, the layout ImageIO's writers take without conversion. */
  public static BufferedImage toBufferedImage(RgbImage image) {
    BufferedImage bi = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_3BYTE_BGR);
    byte[] bgr = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
    byte[] rgb = image.rgb();
    for (int i = 0; i < rgb.length; i += 3) {
      bgr[i] = rgb[i + 2];
      bgr[i + 1] = rgb[i + 1];
      bgr[i + 2] = rgb[i];
    }
    return bi;
  }

  public static byte[] png(RgbImage image) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(toBufferedImage(image), "png", out)) {
        throw new IllegalStateException("no ImageIO PNG writer on this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("PNG encoding failed: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  /** Round half to even, then clamp to [0, 255] (OpenCV's saturate_cast). */
  static byte roundToByte(double v) {
    double r = Math.rint(v);
    return (byte) (r <= 0 ? 0 : r >= 255 ? 255 : (int) r);
  }
}
