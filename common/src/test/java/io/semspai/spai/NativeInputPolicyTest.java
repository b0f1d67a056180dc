package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.image.RgbImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class NativeInputPolicyTest {
  private final NativeInputPolicy policy = new NativeInputPolicy(SpaiConfig.tiny().patch());

  /** Pixel value encodes position so a patch pixel tells where it came from: R = x, G = y, B = x+y (mod 256). */
  private static RgbImage coordinateImage(int w, int h) {
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = (y * w + x) * 3;
        rgb[i] = (byte) x;
        rgb[i + 1] = (byte) y;
        rgb[i + 2] = (byte) (x + y);
      }
    }
    return new RgbImage(w, h, rgb);
  }

  private static float pixel(SpaiPatches p, int patch, int channel, int y, int x) {
    int s = p.size();
    return p.pixels()[patch * p.patchLength() + channel * s * s + y * s + x];
  }

  @Test
  void padBeforeFollowsPadIfNeeded() {
    assertEquals(62, NativeInputPolicy.padBefore(100, 224)); // after = 62
    assertEquals(61, NativeInputPolicy.padBefore(101, 224)); // after = 62: the odd pixel goes after
    assertEquals(0, NativeInputPolicy.padBefore(224, 224));
    assertEquals(0, NativeInputPolicy.padBefore(500, 224));
  }

  @Test
  void reflect101MatchesNumpyReflectIncludingPadsWiderThanTheImage() {
    // np.pad(np.arange(3), (7, 7), "reflect")
    int[] expected3 = {1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1};
    for (int i = 0; i < expected3.length; i++) {
      assertEquals(expected3[i], NativeInputPolicy.reflect101(i - 7, 3), "index " + (i - 7));
    }
    // np.pad(np.arange(5), (9, 9), "reflect")
    int[] expected5 = {1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3};
    for (int i = 0; i < expected5.length; i++) {
      assertEquals(expected5[i], NativeInputPolicy.reflect101(i - 9, 5), "index " + (i - 9));
    }
    assertEquals(0, NativeInputPolicy.reflect101(-5, 1));
  }

  @Test
  void centreOffsetRoundsHalfToEven() {
    assertEquals(112, NativeInputPolicy.centreOffset(449, 224)); // 112.5 → 112
    assertEquals(114, NativeInputPolicy.centreOffset(451, 224)); // 113.5 → 114
    assertEquals(38, NativeInputPolicy.centreOffset(300, 224));
    assertEquals(0, NativeInputPolicy.centreOffset(225, 224)); // 0.5 → 0
    assertEquals(2, NativeInputPolicy.centreOffset(227, 224)); // 1.5 → 2
    assertEquals(0, NativeInputPolicy.centreOffset(224, 224));
  }

  @Test
  void gridIsRowMajorAndDropsTheRemainder() {
    SpaiPatches p = policy.patches(coordinateImage(1000, 500)); // 4 × 2 patches, 104 and 52 px dropped
    assertEquals(SpaiPatches.Crop.GRID, p.crop());
    assertEquals(8, p.count());
    assertEquals(new PatchBox(672, 0, 224, 224), p.boxes().get(3));
    assertEquals(new PatchBox(0, 224, 224, 224), p.boxes().get(4));
    assertEquals(new PatchBox(672, 224, 224, 224), p.boxes().get(7));
    // patch 5 starts at (224, 224): its pixel (3, 2) is image pixel (227, 226)
    assertEquals((227 & 0xFF) * (1f / 255f), pixel(p, 5, 0, 2, 3));
    assertEquals((226 & 0xFF) * (1f / 255f), pixel(p, 5, 1, 2, 3));
  }

  @Test
  void fiveCropBelowFourPatches() {
    SpaiPatches p = policy.patches(coordinateImage(300, 400)); // 1 × 1 grid → five crop
    assertEquals(SpaiPatches.Crop.FIVE_CROP, p.crop());
    assertEquals(
        List.of(new PatchBox(0, 0, 224, 224), new PatchBox(76, 0, 224, 224), new PatchBox(0, 176, 224, 224),
            new PatchBox(76, 176, 224, 224), new PatchBox(38, 88, 224, 224)),
        p.boxes());
    // centre crop's top-left pixel is image (38, 88)
    assertEquals(38 * (1f / 255f), pixel(p, 4, 0, 0, 0));
    assertEquals(88 * (1f / 255f), pixel(p, 4, 1, 0, 0));
  }

  @Test
  void fourPatchesAreEnoughForTheGrid() {
    SpaiPatches p = policy.patches(coordinateImage(512, 512));
    assertEquals(SpaiPatches.Crop.GRID, p.crop());
    assertEquals(4, p.count());
  }

  @Test
  void exactly224RunsFiveIdenticalCrops() {
    SpaiPatches p = policy.patches(coordinateImage(224, 224));
    assertEquals(5, p.count());
    int n = p.patchLength();
    for (int i = 1; i < 5; i++) {
      assertArrayEquals(
          java.util.Arrays.copyOfRange(p.pixels(), 0, n), java.util.Arrays.copyOfRange(p.pixels(), i * n, (i + 1) * n));
      assertEquals(new PatchBox(0, 0, 224, 224), p.boxes().get(i));
    }
  }

  @Test
  void narrowImageIsReflectPaddedAndBoxesClippedToTheImage() {
    SpaiPatches p = policy.patches(coordinateImage(100, 700)); // width padded 62 + 100 + 62; grid 1 × 3 → five crop
    assertEquals(SpaiPatches.Crop.FIVE_CROP, p.crop());
    assertEquals(new PatchBox(0, 0, 100, 224), p.boxes().get(0));
    assertEquals(new PatchBox(0, 476, 100, 224), p.boxes().get(2));
    assertEquals(new PatchBox(0, 238, 100, 224), p.boxes().get(4)); // round(238.0)
    // padded column 0 is image column reflect101(-62) = 62; padded column 61 is image column 1; 62 is column 0
    assertEquals(62 * (1f / 255f), pixel(p, 0, 0, 0, 0));
    assertEquals(1 * (1f / 255f), pixel(p, 0, 0, 0, 61));
    assertEquals(0f, pixel(p, 0, 0, 0, 62));
    // right side: padded column 162 is image column 98 (the edge pixel 99 is not repeated)
    assertEquals(99 * (1f / 255f), pixel(p, 0, 0, 0, 161));
    assertEquals(98 * (1f / 255f), pixel(p, 0, 0, 0, 162));
  }

  @Test
  void tinyImageUsesRepeatedReflection() {
    SpaiPatches p = policy.patches(coordinateImage(3, 3)); // pad 110 before, 111 after
    assertEquals(5, p.count());
    for (int x = 0; x < 224; x++) {
      int src = NativeInputPolicy.reflect101(x - 110, 3);
      assertEquals(src * (1f / 255f), pixel(p, 0, 0, 0, x), "column " + x);
    }
    assertEquals(new PatchBox(0, 0, 3, 3), p.boxes().get(0));
  }

  @Test
  void pixelsAreScaledByTheFloatReciprocalOf255() {
    byte[] rgb = new byte[300 * 300 * 3];
    java.util.Arrays.fill(rgb, (byte) 200);
    SpaiPatches p = policy.patches(new RgbImage(300, 300, rgb));
    assertEquals(200 * (1f / 255f), p.pixels()[0]);
  }

  @Test
  void policyParsing() {
    assertEquals("native", SpaiInputPolicy.parse("native", SpaiConfig.tiny().patch()).spec());
    assertEquals("resize:1024", SpaiInputPolicy.parse("resize:1024", SpaiConfig.tiny().patch()).spec());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpaiInputPolicy.parse("stretch", SpaiConfig.tiny().patch()));
    assertTrue(e.getMessage().contains("unknown SPAI input policy 'stretch'"), e.getMessage());
  }
}
