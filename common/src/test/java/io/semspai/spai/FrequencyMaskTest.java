package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FrequencyMaskTest {
  private static final int S = 224;

  @Test
  void coordinatesCountDownThenUp() {
    int[] c = FrequencyMask.coordinates(S);
    assertEquals(111, c[0]);
    assertEquals(0, c[111]);
    assertEquals(0, c[112]);
    assertEquals(111, c[223]);
    assertEquals(15, c[96]);
    assertEquals(15, c[127]);
  }

  @Test
  void maskKeepsIndices96To127OnTheDcRowAndHas856Ones() {
    long[] m = FrequencyMask.generate(S, 16);
    long ones = 0;
    for (long v : m) {
      ones += v;
    }
    assertEquals(856, ones); // numpy: (sqrt(c[None]**2 + c[:, None]**2) < 16).sum()
    for (int x = 0; x < S; x++) {
      assertEquals(x >= 96 && x <= 127 ? 1 : 0, m[112 * S + x], "row 112, column " + x);
    }
    assertEquals(1, m[112 * S + 112]); // DC after fftshift
    // symmetric in the two axes
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        assertEquals(m[y * S + x], m[x * S + y]);
      }
    }
  }

  @Test
  void unshiftedMaskIsHalfABinOffCentre() {
    float[] u = FrequencyMask.unshifted(FrequencyMask.generate(S, 16), S);
    // frequency k ≥ 0 has radius k (kept up to 15); frequency −k has radius k−1 (kept up to −16)
    for (int x = 0; x < S; x++) {
      boolean kept = x <= 15 || x >= S - 16;
      assertEquals(kept ? 1f : 0f, u[x], "unshifted row 0, column " + x);
    }
    assertEquals(1f, u[0]);
    assertEquals(0f, u[16]);
    assertEquals(1f, u[208]); // frequency −16
    assertEquals(0f, u[207]); // frequency −17
  }

  @Test
  void smallMaskMatchesHandComputation() {
    // size 8, radius 2: coords [3,2,1,0,0,1,2,3]; kept where x²+y² < 4, i.e. both coordinates ≤ 1
    // (numpy: (np.sqrt(c[None]**2 + c[:, None]**2) < 2).astype(int))
    long[] m = FrequencyMask.generate(8, 2);
    long[] expected = {
      0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 1, 1, 1, 1, 0, 0,
      0, 0, 1, 1, 1, 1, 0, 0,
      0, 0, 1, 1, 1, 1, 0, 0,
      0, 0, 1, 1, 1, 1, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0,
    };
    assertArrayEquals(expected, m);
  }
}
