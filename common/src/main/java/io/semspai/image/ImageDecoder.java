package io.semspai.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * The one place that turns encoded bytes into {@link RgbImage}s. Reads raster samples directly: drawing onto an
 * RGB canvas would composite alpha over black and {@code getRGB} would colour-convert gray, while PIL does
 * neither.
 */
public final class ImageDecoder {
  private ImageDecoder() {}

  public static RgbImage decode(byte[] bytes) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
    if (image == null) {
      throw new IOException("no ImageIO reader recognises these " + bytes.length + " bytes");
    }
    return toRgb(image);
  }

  static RgbImage toRgb(BufferedImage image) throws IOException {
    Raster raster = image.getRaster();
    int w = raster.getWidth();
    int h = raster.getHeight();
    int bands = raster.getNumBands();
    if (image.getColorModel() instanceof java.awt.image.IndexColorModel) {
      // Palette: look the index up, then keep only R, G, B.
      java.awt.image.IndexColorModel cm = (java.awt.image.IndexColorModel) image.getColorModel();
      byte[] out = new byte[w * h * 3];
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          int i = (y * w + x) * 3;
          out[i] = (byte) cm.getRed(row[x]);
          out[i + 1] = (byte) cm.getGreen(row[x]);
          out[i + 2] = (byte) cm.getBlue(row[x]);
        }
      }
      return new RgbImage(w, h, out);
    }
    if (raster.getSampleModel().getSampleSize(0) != 8) {
      throw new IOException("only 8-bit samples are supported, got " + raster.getSampleModel().getSampleSize(0));
    }
    byte[] out = new byte[w * h * 3];
    int[] pixel = new int[bands];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.getPixel(x, y, pixel);
        int i = (y * w + x) * 3;
        if (bands >= 3) {
          out[i] = (byte) pixel[0];
          out[i + 1] = (byte) pixel[1];
          out[i + 2] = (byte) pixel[2];
        } else {
          out[i] = out[i + 1] = out[i + 2] = (byte) pixel[0];
        }
      }
    }
    return new RgbImage(w, h, out);
  }
}
