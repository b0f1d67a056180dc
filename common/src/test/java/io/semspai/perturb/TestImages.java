package io.semspai.perturb;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/** Deterministic test pictures. */
final class TestImages {
  private TestImages() {}

  /** The pattern the Python fixtures use: (7x + 13y + 50c + 5((xy) mod 17)) mod 256. */
  static RgbImage pattern(int w, int h) {
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          rgb[(y * w + x) * 3 + c] = (byte) ((x * 7 + y * 13 + c * 50 + ((x * y) % 17) * 5) % 256);
        }
      }
    }
    return new RgbImage(w, h, rgb);
  }

  /** Smooth shapes plus fine texture, closer to a photo than the pattern (JPEG behaves as on photos). */
  static RgbImage photoLike(int w, int h, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double base = 128 + 60 * Math.sin(x / 9.0) * Math.cos(y / 13.0);
        boolean disc = (x - w / 2.0) * (x - w / 2.0) + (y - h / 3.0) * (y - h / 3.0) < (w / 5.0) * (w / 5.0);
        double grain = 12 * r.nextGaussian(); // luminance grain, as in photos (chroma is subsampled by JPEG)
        for (int c = 0; c < 3; c++) {
          double v = base + (disc ? 50 - 30 * c : 20 * c) + grain;
          rgb[(y * w + x) * 3 + c] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
        }
      }
    }
    return new RgbImage(w, h, rgb);
  }

  static RgbImage constant(int w, int h, int value) {
    byte[] rgb = new byte[w * h * 3];
    java.util.Arrays.fill(rgb, (byte) value);
    return new RgbImage(w, h, rgb);
  }

  /** Mean squared horizontal and vertical neighbour differences: the image's high-frequency energy. */
  static double highFrequencyEnergy(RgbImage img) {
    byte[] p = img.rgb();
    int w = img.width();
    int h = img.height();
    double sum = 0;
    long n = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          int v = p[(y * w + x) * 3 + c] & 0xFF;
          if (x + 1 < w) {
            double d = v - (p[(y * w + x + 1) * 3 + c] & 0xFF);
            sum += d * d;
            n++;
          }
          if (y + 1 < h) {
            double d = v - (p[((y + 1) * w + x) * 3 + c] & 0xFF);
            sum += d * d;
            n++;
          }
        }
      }
    }
    return sum / n;
  }

  static int at(RgbImage img, int x, int y, int c) {
    return img.rgb()[(y * img.width() + x) * 3 + c] & 0xFF;
  }
}
