package io.semspai.image;

/**
 * {@code torch.nn.functional.interpolate(x, size, mode="bilinear", align_corners=False, antialias=True)} on a
 * float32 C×H×W image, which is what torchvision's {@code Resize(size, antialias=True)} does to a float tensor. No
 * rounding and no clamping: the output may leave [0,1] slightly, as torch's does.
 *
 * <p>Mirrors torch's CPU kernel (PIL's "bounds" scheme, {@code _compute_indices_weights_aa} and the separable
 * loops of {@code UpSampleKernel.cpp}) in the same float32 arithmetic and order, so the result agrees with torch's
 * to a few float32 ulps:
 *
 * <ul>
 *   <li>per axis, {@code scale = in/out} (float); the triangle filter's support is {@code max(scale, 1)};
 *   <li>output {@code i} reads inputs {@code [xmin, xmin+xsize)} around {@code center = scale·(i+0.5)} with weights
 *       {@code 1−|(j + xmin − center + 0.5)/max(scale,1)|}, normalised to sum 1;
 *   <li>the width is resampled first, then the height; an axis whose size does not change is skipped.
 * </ul>
 *
 * Downscaling therefore averages over the whole footprint (antialiasing) instead of sampling two pixels, and
 * upscaling is ordinary bilinear interpolation with half-pixel centres.
 */
public final class AntialiasedResize {
  private AntialiasedResize() {}

  /** The taps of one axis: output {@code i} reads {@code count[i]} inputs from {@code start[i]}. */
  record Taps(int[] start, int[] count, float[][] weights) {}

  /**
   * Resizes {@code chw} (channels × height × width, row-major) to channels × outHeight × outWidth. Returns the input
   * array itself when the size does not change, as torchvision does.
   */
  public static float[] resize(float[] chw, int channels, int height, int width, int outHeight, int outWidth) {
    if (channels <= 0 || height <= 0 || width <= 0 || outHeight <= 0 || outWidth <= 0) {
      throw new IllegalArgumentException("resize " + channels + "×" + height + "×" + width + " → " + outHeight + "×"
          + outWidth + ": every size must be positive");
    }
    if (chw.length != (long) channels * height * width) {
      throw new IllegalArgumentException("expected " + ((long) channels * height * width) + " floats for "
          + channels + "×" + height + "×" + width + ", got " + chw.length);
    }
    float[] x = chw;
    int w = width;
    if (outWidth != width) {
      x = horizontal(x, channels * height, w, outWidth, taps(width, outWidth));
      w = outWidth;
    }
    if (outHeight != height) {
      x = vertical(x, channels, height, w, outHeight, taps(height, outHeight));
    }
    return x;
  }

  /** torch's {@code _compute_indices_weights_aa} for the bilinear (triangle) filter, in float32 as torch does. */
  static Taps taps(int in, int out) {
    float scale = (float) in / out;
    float support = scale >= 1f ? scale : 1f; // (interp_size / 2) · scale, interp_size 2
    float invscale = scale >= 1f ? (float) (1.0 / scale) : 1f;
    int[] start = new int[out];
    int[] count = new int[out];
    float[][] weights = new float[out][];
    for (int i = 0; i < out; i++) {
      float center = (float) (scale * (i + 0.5)); // float · double, stored as float
      long xmin = Math.max((long) ((double) (center - support) + 0.5), 0L);
      long xsize = Math.min((long) ((double) (center + support) + 0.5), in) - xmin;
      float[] w = new float[(int) Math.max(xsize, 0)];
      float total = 0f;
      for (int j = 0; j < w.length; j++) {
        // (j + xmin − center + 0.5) · invscale: int64 − float is float, + 0.5 and · invscale in double,
        // then the filter takes a float argument
        float arg = (float) (((double) ((float) (j + xmin) - center) + 0.5) * invscale);
        float a = Math.abs(arg);
        float v = a < 1f ? 1f - a : 0f;
        w[j] = v;
        total += v;
      }
      if (total != 0f) {
        for (int j = 0; j < w.length; j++) {
          w[j] /= total;
        }
      }
      start[i] = (int) xmin;
      count[i] = w.length;
      weights[i] = w;
    }
    return new Taps(start, count, weights);
  }

  /** Resamples the last axis of {@code rows} rows of length {@code in}. */
  private static float[] horizontal(float[] src, int rows, int in, int out, Taps t) {
    float[] dst = new float[rows * out];
    for (int r = 0; r < rows; r++) {
      int base = r * in;
      int o = r * out;
      for (int i = 0; i < out; i++) {
        float[] w = t.weights[i];
        int s = base + t.start[i];
        float acc = src[s] * w[0];
        for (int j = 1; j < w.length; j++) {
          acc += src[s + j] * w[j];
        }
        dst[o + i] = acc;
      }
    }
    return dst;
  }

  /** Resamples the middle axis (height) of a C×H×W array. */
  private static float[] vertical(float[] src, int channels, int in, int width, int out, Taps t) {
    float[] dst = new float[channels * out * width];
    float[] acc = new float[width];
    for (int c = 0; c < channels; c++) {
      int plane = c * in * width;
      for (int i = 0; i < out; i++) {
        float[] w = t.weights[i];
        int row = plane + t.start[i] * width;
        for (int x = 0; x < width; x++) {
          acc[x] = src[row + x] * w[0];
        }
        for (int j = 1; j < w.length; j++) {
          float wj = w[j];
          int rj = row + j * width;
          for (int x = 0; x < width; x++) {
            acc[x] += src[rj + x] * wj;
          }
        }
        System.arraycopy(acc, 0, dst, (c * out + i) * width, width);
      }
    }
    return dst;
  }
}
