package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.semspai.image.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Identical patches are encoded once; the result is what encoding every copy gives. */
class DistinctPatchesTest {
  @TempDir static Path tmp;
  static SpaiModel model;

  @BeforeAll
  static void load() throws IOException {
    model = SpaiModel.load(SpaiBundles.writeRandom(tmp.resolve("b"), SpaiConfig.tiny(), 5, "t", "0.1.0"));
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static RgbImage noise(int w, int h, long seed) {
    byte[] rgb = new byte[w * h * 3];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (byte) r.nextInt(256);
    }
    return new RgbImage(w, h, rgb);
  }

  @Test
  void smallImagesFiveCropIntoOneDistinctPatch() {
    assertEquals(1, SpaiModel.distinctPatches(model.inputPolicy().patches(noise(224, 224, 1))));
    assertEquals(1, SpaiModel.distinctPatches(model.inputPolicy().patches(noise(90, 130, 2))));
    assertEquals(5, SpaiModel.distinctPatches(model.inputPolicy().patches(noise(300, 400, 3))));
    assertEquals(4, SpaiModel.distinctPatches(model.inputPolicy().patches(noise(512, 512, 4))));
  }

  /** Encoding the five copies through upstream's path (all of them, one batch) gives the same scores. */
  @Test
  void encodingOnceEqualsEncodingEveryCopy() {
    SpaiPatches p = model.inputPolicy().patches(noise(224, 224, 9));
    SpaiResult r = model.score(p);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray all = model.network().encodePatches(null, m.create(p.pixels(), new Shape(5, 3, 224, 224)), false);
      float[] features = all.toFloatArray();
      for (int k = 0; k < 5; k++) {
        assertArrayEquals(java.util.Arrays.copyOfRange(features, k * 88, (k + 1) * 88), r.patchFeatures()[k], 1e-5f);
      }
      try (SpaiNetwork.Aggregation a = model.network().aggregate(null, all, false)) {
        assertArrayEquals(a.feature().toFloatArray(), r.imageFeature(), 1e-5f);
        assertEquals(model.network().classify(null, a.feature(), false).getFloat(0), r.logit(), 1e-5f);
      }
    }
  }

  /** The same image twice in one batch: encoded once, both results equal the image alone. */
  @Test
  void duplicatesAcrossImagesShareTheirEncoding() {
    SpaiPatches a = model.inputPolicy().patches(noise(512, 300, 6));
    List<SpaiResult> both = model.scoreAll(List.of(a, a), 3);
    SpaiResult alone = model.score(a);
    for (SpaiResult r : both) {
      assertEquals(alone.logit(), r.logit(), 1e-5f);
      for (int k = 0; k < a.count(); k++) {
        assertArrayEquals(alone.patchFeatures()[k], r.patchFeatures()[k], 1e-5f);
      }
    }
  }
}
