package io.semspai.checkpoint;

/**
 * IEEE half precision (fp16) and bfloat16 conversions. Widening to float is exact for every bit pattern, NaN
 * payloads included; narrowing rounds to nearest, ties to even, as PyTorch's {@code .half()} and
 * {@code .bfloat16()} do. Java 17 has no {@code Float.float16ToFloat}, hence this class.
 */
public final class HalfFloat {
  private static final float[] HALF_TO_FLOAT = new float[1 << 16];

  static {
    for (int h = 0; h < HALF_TO_FLOAT.length; h++) {
      HALF_TO_FLOAT[h] = widen(h);
    }
  }

  private HalfFloat() {}

  /** The float32 value of an fp16 bit pattern (the low 16 bits of {@code bits}). */
  public static float halfToFloat(int bits) {
    return HALF_TO_FLOAT[bits & 0xffff];
  }

  /** The float32 value of a bfloat16 bit pattern: bfloat16 is the top half of a float32. */
  public static float bf16ToFloat(int bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** The fp16 bit pattern nearest to {@code f} (ties to even); overflow gives infinity, NaN stays NaN. */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) { // infinity or NaN: keep the top payload bits, force NaN to stay NaN
      return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0));
    }
    if (abs >= 0x47800000) { // 65536 and above: beyond fp16's range even before rounding
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below 2^-14: fp16 subnormal or zero, in units of 2^-24
      return (short) (sign | (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24));
    }
    int h = ((abs >>> 23) - 112) << 10 | ((abs >>> 13) & 0x3ff);
    int rest = abs & 0x1fff;
    if (rest > 0x1000 || rest == 0x1000 && (h & 1) != 0) {
      h++; // a carry out of the mantissa correctly bumps the exponent, up to infinity
    }
    return (short) (sign | h);
  }

  /** The bfloat16 bit pattern nearest to {@code f} (ties to even); NaN stays a quiet NaN. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }

  private static float widen(int h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0) { // zero or subnormal: mant * 2^-24 is exact in float
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    if (exp == 31) {
      return Float.intBitsToFloat(sign | 0x7f800000 | mant << 13);
    }
    return Float.intBitsToFloat(sign | (exp + 112) << 23 | mant << 13);
  }
}
