package io.semspai.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Exhaustive over all 65,536 bit patterns of each 16-bit format. */
class HalfFloatTest {

  @Test
  void fp16WidensExactlyAndNarrowsBackToItself() {
    for (int h = 0; h < 1 << 16; h++) {
      float f = HalfFloat.halfToFloat(h);
      int back = HalfFloat.floatToHalf(f) & 0xffff;
      if (Float.isNaN(f)) {
        assertTrue((back & 0x7c00) == 0x7c00 && (back & 0x3ff) != 0, "NaN stays NaN: " + h);
      } else {
        assertEquals(h, back, "round trip of 0x" + Integer.toHexString(h));
      }
    }
    assertEquals(65504f, HalfFloat.halfToFloat(0x7bff));
    assertEquals(0x1p-24f, HalfFloat.halfToFloat(0x0001));
    assertEquals(0x1p-14f, HalfFloat.halfToFloat(0x0400));
    assertEquals(Float.NEGATIVE_INFINITY, HalfFloat.halfToFloat(0xfc00));
  }

  @Test
  void fp16RoundsToNearestTiesToEven() {
    // Between two adjacent positive finite halves a and a+1: the midpoint goes to the even one, anything above
    // or below it to the nearer one. Covers subnormals and the carry into the exponent.
    for (int a = 0; a < 0x7bff; a++) {
      double lo = HalfFloat.halfToFloat(a);
      double hi = HalfFloat.halfToFloat(a + 1);
      float mid = (float) ((lo + hi) / 2); // exact: halves have 11 significant bits
      int even = (a & 1) == 0 ? a : a + 1;
      assertEquals(even, HalfFloat.floatToHalf(mid), "tie at 0x" + Integer.toHexString(a));
      assertEquals(a, HalfFloat.floatToHalf(Math.nextDown(mid)));
      assertEquals(a + 1, HalfFloat.floatToHalf(Math.nextUp(mid)));
      assertEquals((short) (a | 0x8000), HalfFloat.floatToHalf((float) -lo));
    }
    assertEquals(0x7bff, HalfFloat.floatToHalf(65519.99f));
    assertEquals(0x7c00, HalfFloat.floatToHalf(65520f)); // the tie above the largest half rounds to infinity
    assertEquals(0x7c00, HalfFloat.floatToHalf(1e10f));
    assertEquals(0, HalfFloat.floatToHalf(0x1p-26f));
    assertEquals(1, HalfFloat.floatToHalf(0x1.8p-25f));
  }

  @Test
  void bf16WidensExactlyAndRoundsToNearestEven() {
    for (int b = 0; b < 1 << 16; b++) {
      float f = HalfFloat.bf16ToFloat(b);
      assertEquals(b << 16, Float.floatToRawIntBits(f));
      if (!Float.isNaN(f)) {
        assertEquals(b, HalfFloat.floatToBf16(f) & 0xffff);
        if ((b & 0x7fff) < 0x7f80) {
          int tie = (b << 16) | 0x8000;
          int even = (b & 1) == 0 ? b : b + 1;
          assertEquals(even, HalfFloat.floatToBf16(Float.intBitsToFloat(tie)) & 0xffff);
          assertEquals(b + 1, HalfFloat.floatToBf16(Float.intBitsToFloat(tie + 1)) & 0xffff);
          assertEquals(b, HalfFloat.floatToBf16(Float.intBitsToFloat(tie - 1)) & 0xffff);
        }
      } else {
        assertTrue(Float.isNaN(HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(f))));
      }
    }
  }
}
