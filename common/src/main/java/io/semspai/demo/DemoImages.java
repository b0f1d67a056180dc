package io.semspai.demo;

import io.semspai.image.RgbImage;
import java.util.SplittableRandom;

/**
 * The two classes of the demo, generated procedurally so they are free to redistribute and reproducible by seed.
 *
 * <ul>
 *   <li>{@link Kind#CAMERA}: "camera-like" scenes: multi-octave value noise with a roughly 1/f spectrum, colour
 *       gradients and a little sensor noise at full resolution.
 *   <li>{@link Kind#UPSAMPLED}: the same kind of scene rendered at half resolution and enlarged 2× with a
 *       transposed-convolution-like kernel, which leaves a periodic checkerboard in the spectrum: a stand-in for the
 *       upsampling traces generators leave.
 * </ul>
 *
 * These are not AI-generated images and a model that separates them detects nothing in the wild; they exist so
 * the demo's loop (detect, label, retrain, promote, hot-swap) has a learnable, honest signal.
 */
public final class DemoImages {
  /** The demo's two classes. */
  public enum Kind { CAMERA, UPSAMPLED }

  private DemoImages() {}

  public static RgbImage generate(Kind kind, int width, int height, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed * 31 + kind.ordinal());
    if (kind == Kind.CAMERA) {
      float[][] planes = scene(width, height, rnd);
      addSensorNoise(planes, rnd, 2.0f);
      return toImage(planes, width, height);
    }
    int hw = (width + 1) / 2;
    int hh = (height + 1) / 2;
    float[][] small = scene(hw, hh, rnd);
    float[][] big = new float[3][width * height];
    // Zero-insertion followed by a 2×2 box with uneven taps: the classic checkerboard of a stride-2 deconvolution.
    float[] taps = {1.15f, 0.85f};
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          float v = small[c][Math.min(hh - 1, y / 2) * hw + Math.min(hw - 1, x / 2)];
          big[c][y * width + x] = v * taps[x & 1] * taps[y & 1];
        }
      }
    }
    addSensorNoise(big, rnd, 0.5f);
    return toImage(big, width, height);
  }

  private static float[][] scene(int w, int h, SplittableRandom rnd) {
    float[][] planes = new float[3][w * h];
    float[] base = {rnd.nextFloat() * 200 + 30, rnd.nextFloat() * 200 + 30, rnd.nextFloat() * 200 + 30};
    float gx = (rnd.nextFloat() - 0.5f) * 80 / Math.max(1, w);
    float gy = (rnd.nextFloat() - 0.5f) * 80 / Math.max(1, h);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          planes[c][y * w + x] = base[c] + gx * x + gy * y;
        }
      }
    }
    // Octaves of bilinear value noise; amplitude proportional to the cell size gives a ~1/f spectrum.
    for (int cell = Math.max(w, h) / 2; cell >= 2; cell /= 2) {
      float amp = 40f * cell / Math.max(w, h) + 3f;
      int gw = w / cell + 2;
      int gh = h / cell + 2;
      float[][] grid = new float[3][gw * gh];
      for (int c = 0; c < 3; c++) {
        for (int i = 0; i < grid[c].length; i++) {
          grid[c][i] = (float) (rnd.nextGaussian() * amp);
        }
      }
      for (int y = 0; y < h; y++) {
        float fy = (float) y / cell;
        int y0 = (int) fy;
        float ty = fy - y0;
        for (int x = 0; x < w; x++) {
          float fx = (float) x / cell;
          int x0 = (int) fx;
          float tx = fx - x0;
          for (int c = 0; c < 3; c++) {
            float[] g = grid[c];
            float a = g[y0 * gw + x0] * (1 - tx) + g[y0 * gw + x0 + 1] * tx;
            float b = g[(y0 + 1) * gw + x0] * (1 - tx) + g[(y0 + 1) * gw + x0 + 1] * tx;
            planes[c][y * w + x] += a * (1 - ty) + b * ty;
          }
        }
      }
    }
    return planes;
  }

  private static void addSensorNoise(float[][] planes, SplittableRandom rnd, float sigma) {
    for (float[] p : planes) {
      for (int i = 0; i < p.length; i++) {
        p[i] += (float) (rnd.nextGaussian() * sigma);
      }
    }
  }

  private static RgbImage toImage(float[][] planes, int w, int h) {
    byte[] rgb = new byte[w * h * 3];
    for (int i = 0; i < w * h; i++) {
      for (int c = 0; c < 3; c++) {
        rgb[3 * i + c] = (byte) Math.max(0, Math.min(255, Math.round(planes[c][i])));
      }
    }
    return new RgbImage(w, h, rgb);
  }
}
