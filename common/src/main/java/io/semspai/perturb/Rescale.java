package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/**
 * Resizes by a factor with an antialiased triangle (bilinear) filter, the filter of PIL's
 * {@code Image.resize(..., BILINEAR)} and torchvision's {@code antialias=True}: when shrinking, the filter's
 * support widens by 1/factor so every input pixel contributes; when enlarging it is plain bilinear with half-pixel
 * centres (OpenCV's INTER_LINEAR). Taps outside the image are dropped and the rest renormalised, as PIL does.
 * Computed in double precision, rounded half-to-even.
 *
 * <p>The output size truncates like albumentations' {@code RandomScale}: {@code int(w * factor)} by
 * {@code int(h * factor)}, at least 1. Upstream resizes with OpenCV's INTER_LINEAR, which does not antialias when
 * shrinking; this project antialiases on purpose so a downscale is a realistic derivative, not an aliased one.
 */
public record Rescale(double factor) implements Perturbation {
  public Rescale {
    if (!(factor > 0) || Double.isInfinite(factor)) {
      throw new PerturbationSpecException("scale=" + factor + ": factor must be a finite number > 0");
    }
  }

  @Override
  public PerturbationKind kind() {
    return PerturbationKind.SCALE;
  }

  @Override
  public double strength() {
    return factor;
  }

  @Override
  public boolean isIdentity() {
    return factor == 1;
  }

  public int outputWidth(int width) {
    return Math.max(1, (int) (width * factor));
  }

  public int outputHeight(int height) {
    return Math.max(1, (int) (height * factor));
  }

  @Override
  public RgbImage apply(RgbImage image, SplittableRandom random) {
    if (isIdentity()) {
      return image;
    }
    return resize(image, outputWidth(image.width()), outputHeight(image.height()));
  }

  /** Antialiased bilinear resize to an exact size. */
  public static RgbImage resize(RgbImage image, int outW, int outH) {
    int w = image.width();
    int h = image.height();
    if (outW == w && outH == h) {
      return image;
    }
    Taps xs = Taps.of(w, outW);
    Taps ys = Taps.of(h, outH);
    byte[] in = image.rgb();
    double[] tmp = new double[outW * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < outW; x++) {
        double a = 0;
        double b = 0;
        double c = 0;
        int first = xs.first[x];
        double[] wt = xs.weights[x];
        for (int t = 0; t < wt.length; t++) {
          int p = (y * w + first + t) * 3;
          a += wt[t] * (in[p] & 0xFF);
          b += wt[t] * (in[p + 1] & 0xFF);
          c += wt[t] * (in[p + 2] & 0xFF);
        }
        int o = (y * outW + x) * 3;
        tmp[o] = a;
        tmp[o + 1] = b;
        tmp[o + 2] = c;
      }
    }
    byte[] out = new byte[outW * outH * 3];
    for (int y = 0; y < outH; y++) {
      int first = ys.first[y];
      double[] wt = ys.weights[y];
      for (int x = 0; x < outW; x++) {
        double a = 0;
        double b = 0;
        double c = 0;
        for (int t = 0; t < wt.length; t++) {
          int p = ((first + t) * outW + x) * 3;
          a += wt[t] * tmp[p];
          b += wt[t] * tmp[p + 1];
          c += wt[t] * tmp[p + 2];
        }
        int o = (y * outW + x) * 3;
        out[o] = Pixels.roundToByte(a);
        out[o + 1] = Pixels.roundToByte(b);
        out[o + 2] = Pixels.roundToByte(c);
      }
    }
    return new RgbImage(outW, outH, out);
  }

  /** Per output index: the first input index and the normalised triangle weights (PIL's precompute_coeffs). */
  private static final class Taps {
    final int[] first;
    final double[][] weights;

    private Taps(int[] first, double[][] weights) {
      this.first = first;
      this.weights = weights;
    }

    static Taps of(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = filterScale; // the triangle filter's support is 1
      int[] first = new int[outSize];
      double[][] weights = new double[outSize][];
      for (int o = 0; o < outSize; o++) {
        double center = (o + 0.5) * scale;
        int lo = Math.max((int) (center - support + 0.5), 0);
        int hi = Math.min((int) (center + support + 0.5), inSize);
        double[] wt = new double[Math.max(hi - lo, 0)];
        double sum = 0;
        for (int i = 0; i < wt.length; i++) {
          double t = Math.abs((lo + i - center + 0.5) / filterScale);
          wt[i] = t < 1 ? 1 - t : 0;
          sum += wt[i];
        }
        if (sum == 0) { // cannot happen for support >= 1, kept as a guard
          wt = new double[] {1};
          lo = Math.min((int) center, inSize - 1);
          sum = 1;
        }
        for (int i = 0; i < wt.length; i++) {
          wt[i] /= sum;
        }
        first[o] = lo;
        weights[o] = wt;
      }
      return new Taps(first, weights);
    }
  }
}
