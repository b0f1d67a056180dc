package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/**
 * Separable Gaussian blur with a kernel of 2*ceil(3*sigma)+1 taps and reflect-101 borders (OpenCV's default,
 * {@code dcb|abcdefgh|gfe}), computed in double precision and rounded half-to-even like OpenCV's saturate_cast.
 * Upstream's test key gives a kernel size and lets OpenCV derive sigma = 0.3*((k-1)/2-1)+0.8 (k=3: 0.8, k=5: 1.1,
 * k=7: 1.4, k=9: 1.7); here sigma is given and the kernel follows from it.
 */
public record GaussianBlur(double sigma) implements Perturbation {
  public GaussianBlur {
    if (!(sigma >= 0) || Double.isInfinite(sigma)) {
      throw new PerturbationSpecException("blur=" + sigma + ": sigma must be a finite number >= 0");
    }
  }

  @Override
  public PerturbationKind kind() {
    return PerturbationKind.BLUR;
  }

  @Override
  public double strength() {
    return sigma;
  }

  @Override
  public boolean isIdentity() {
    return sigma == 0;
  }

  /** Kernel size 2*ceil(3*sigma)+1. */
  public int kernelSize() {
    return 2 * (int) Math.ceil(3 * sigma) + 1;
  }

  double[] kernel() {
    int r = (int) Math.ceil(3 * sigma);
    double[] k = new double[2 * r + 1];
    double sum = 0;
    for (int i = -r; i <= r; i++) {
      k[i + r] = Math.exp(-(i * (double) i) / (2 * sigma * sigma));
      sum += k[i + r];
    }
    for (int i = 0; i < k.length; i++) {
      k[i] /= sum;
    }
    return k;
  }

  @Override
  public RgbImage apply(RgbImage image, SplittableRandom random) {
    if (isIdentity()) {
      return image;
    }
    int w = image.width();
    int h = image.height();
    double[] k = kernel();
    int r = k.length / 2;
    byte[] in = image.rgb();
    double[] tmp = new double[w * h * 3];
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        double a = 0;
        double b = 0;
        double c = 0;
        for (int t = -r; t <= r; t++) {
          int p = (row + reflect101(x + t, w)) * 3;
          double wt = k[t + r];
          a += wt * (in[p] & 0xFF);
          b += wt * (in[p + 1] & 0xFF);
          c += wt * (in[p + 2] & 0xFF);
        }
        int o = (row + x) * 3;
        tmp[o] = a;
        tmp[o + 1] = b;
        tmp[o + 2] = c;
      }
    }
    byte[] out = new byte[in.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double a = 0;
        double b = 0;
        double c = 0;
        for (int t = -r; t <= r; t++) {
          int p = (reflect101(y + t, h) * w + x) * 3;
          double wt = k[t + r];
          a += wt * tmp[p];
          b += wt * tmp[p + 1];
          c += wt * tmp[p + 2];
        }
        int o = (y * w + x) * 3;
        out[o] = Pixels.roundToByte(a);
        out[o + 1] = Pixels.roundToByte(b);
        out[o + 2] = Pixels.roundToByte(c);
      }
    }
    return new RgbImage(w, h, out);
  }

  /** Reflect-101 index for any offset, however far outside (kernels wider than the image included). */
  static int reflect101(int i, int n) {
    if (n == 1) {
      return 0;
    }
    int period = 2 * n - 2;
    int m = Math.floorMod(i, period);
    return m < n ? m : period - m;
  }
}
