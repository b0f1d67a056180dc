package io.semspai.perturb;

import io.semspai.image.RgbImage;

/** Simple full-reference image measures for checking derivatives. */
public final class ImageQuality {
  private ImageQuality() {}

  /** Peak signal-to-noise ratio in dB over all samples (peak 255); +Infinity for identical images. */
  public static double psnr(RgbImage a, RgbImage b) {
    if (a.width() != b.width() || a.height() != b.height()) {
      throw new IllegalArgumentException("PSNR needs equal sizes, got " + a.width() + "x" + a.height() + " and "
          + b.width() + "x" + b.height());
    }
    byte[] x = a.rgb();
    byte[] y = b.rgb();
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      double d = (x[i] & 0xFF) - (y[i] & 0xFF);
      sum += d * d;
    }
    double mse = sum / x.length;
    return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
  }
}
