package io.semspai.spai;

/**
 * SPAI's circular low-pass mask ({@code filters.generate_circular_mask}), reproduced with its quirk: the
 * coordinates are {@code [h-1 .. 0, 0 .. h-1]} (h = size/2), so after {@code fftshift} a positive frequency k has
 * radius k and a negative one |k|−1. The pass band is half a bin off-centre and not Hermitian-symmetric, which is
 * why upstream (and this code) takes the real part of the inverse FFT.
 */
public final class FrequencyMask {
  private FrequencyMask() {}

  /** The mask as upstream stores it ({@code mfvit.frequencies_mask}, int64, DC at index size/2), row-major. */
  public static long[] generate(int size, int radius) {
    int[] coords = coordinates(size);
    long[] mask = new long[size * size];
    long r2 = (long) radius * radius;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        // sqrt(x²+y²) < r  ⇔  x²+y² < r² for integers: float32 sqrt is exact at the boundary squares
        long d2 = (long) coords[y] * coords[y] + (long) coords[x] * coords[x];
        mask[y * size + x] = d2 < r2 ? 1 : 0;
      }
    }
    return mask;
  }

  /** Upstream's {@code cat([arange(h).flip(0), arange(h)])}. */
  static int[] coordinates(int size) {
    int half = size / 2;
    int[] c = new int[size];
    for (int i = 0; i < half; i++) {
      c[i] = half - 1 - i;
      c[half + i] = i;
    }
    return c;
  }

  /**
   * The mask moved to unshifted FFT order ({@code ifftshift}), as floats. Multiplying {@code fft2(x)} by this is
   * exactly upstream's {@code ifftshift(fftshift(fft2(x)) * mask)}: a shift only permutes elements, and upstream's
   * shift over the batch and channel axes cancels because the mask is the same for all of them.
   */
  public static float[] unshifted(long[] shiftedMask, int size) {
    if (shiftedMask.length != size * size) {
      throw new IllegalArgumentException("mask has " + shiftedMask.length + " values, expected " + size * size);
    }
    float[] out = new float[size * size];
    int shift = size / 2; // ifftshift moves index (i + floor(n/2)) mod n to i; for even n, the same as fftshift
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        out[y * size + x] = shiftedMask[((y + shift) % size) * size + (x + shift) % size];
      }
    }
    return out;
  }
}
