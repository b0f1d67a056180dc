package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.semspai.image.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Properties of the tiny random model that hold whatever the weights: the parity test checks the values. */
class SpaiModelTest {
  @TempDir static Path tmp;
  static SpaiModel model;

  @BeforeAll
  static void load() throws IOException {
    model = SpaiModel.load(SpaiBundles.writeRandom(tmp.resolve("b"), SpaiConfig.tiny(), 7, "t", "0.1.0"));
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static RgbImage noise(int w, int h, long seed) {
    byte[] rgb = new byte[w * h * 3];
    new Random(seed).nextBytes(rgb);
    return new RgbImage(w, h, rgb);
  }

  static RgbImage pattern(int w, int h, int kind) {
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = (y * w + x) * 3;
        int v = switch (kind) {
          case 0 -> x * 255 / w;
          case 1 -> ((x / 8 + y / 8) % 2) * 255;
          case 2 -> (int) (127 + 120 * Math.sin(x * 0.3) * Math.cos(y * 0.05));
          default -> (x * y) % 256;
        };
        rgb[i] = (byte) v;
        rgb[i + 1] = (byte) (255 - v);
        rgb[i + 2] = (byte) (v / 2 + kind * 40);
      }
    }
    return new RgbImage(w, h, rgb);
  }

  @Test
  void constantImageIsAllLowPass() {
    MfVit mfvit = model.network().mfvit();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.full(new Shape(2, 3, 224, 224), 0.3f);
      NDArray views = mfvit.spectralViews(x); // 6×3×S×S: orig, low, high, ImageNet-normalised
      float[] mean = {0.485f, 0.456f, 0.406f};
      float[] std = {0.229f, 0.224f, 0.225f};
      for (int c = 0; c < 3; c++) {
        float lowExpected = (0.3f - mean[c]) / std[c];
        float highExpected = (0f - mean[c]) / std[c]; // high-pass of a constant is 0 (clamped)
        assertEquals(lowExpected, views.get(2, c, 17, 200).getFloat(), 1e-5);
        assertEquals(highExpected, views.get(5, c, 100, 3).getFloat(), 1e-5);
      }
    }
  }

  @Test
  void unshiftedMaskEqualsUpstreamsShiftMaskShiftSequence() {
    MfVit mfvit = model.network().mfvit();
    long[] mask = FrequencyMask.generate(224, 16);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.randomUniform(0f, 1f, new Shape(2, 3, 224, 224));
      NDArray ours = mfvit.spectralViews(x);
      // upstream: fftshift(fft2(x)) * mask, then ifftshift and ifft2; the shift is a roll by 112 on H and W
      NDArray maskArr = m.create(mask, new Shape(224, 224)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
      NDArray spec = roll(x.fft2(new long[] {224, 224}, new long[] {-2, -1}));
      NDArray low = roll(spec.mul(maskArr)).ifft2(new long[] {224, 224}, new long[] {-2, -1}).real().get("..., 0")
          .clip(0f, 1f);
      NDArray mean = m.create(new float[] {0.485f, 0.456f, 0.406f}, new Shape(1, 3, 1, 1));
      NDArray std = m.create(new float[] {0.229f, 0.224f, 0.225f}, new Shape(1, 3, 1, 1));
      NDArray expected = low.sub(mean).div(std);
      float maxDiff = ours.get("2:4").sub(expected).abs().max().getFloat();
      assertTrue(maxDiff < 1e-6, "max difference " + maxDiff);
    }
  }

  /** fftshift on the last two axes of an even-sized array: roll each by half, built from slices. */
  private static NDArray roll(NDArray a) {
    NDArray r = a.get("..., 112:, :").concat(a.get("..., :112, :"), -2);
    return r.get("..., 112:").concat(r.get("..., :112"), -1);
  }

  @Test
  void fiveIdenticalCropsGetEqualAttentionAndFeatures() {
    SpaiResult r = model.score(noise(224, 224, 1));
    assertEquals(SpaiPatches.Crop.FIVE_CROP, r.crop());
    assertEquals(5, r.patches().size());
    for (SpaiResult.PatchAttention p : r.patches()) {
      assertEquals(0.2f, p.attention(), 1e-6);
    }
    for (int i = 1; i < 5; i++) {
      assertArrayEquals(r.patchFeatures()[0], r.patchFeatures()[i], 1e-6f);
    }
  }

  @Test
  void resultIsConsistent() {
    SpaiResult r = model.score(pattern(700, 500, 2)); // 3 × 2 grid
    assertEquals(SpaiPatches.Crop.GRID, r.crop());
    assertEquals(6, r.patches().size());
    assertEquals(88, r.imageFeature().length);
    float sum = 0;
    for (SpaiResult.PatchAttention p : r.patches()) {
      sum += p.attention();
    }
    assertEquals(1f, sum, 1e-5);
    assertEquals((float) (1 / (1 + Math.exp(-r.logit()))), r.score(), 1e-7);
    // LayerNorm output with weight ≈ 1: zero mean, unit variance up to the weights' noise
    double mean = 0;
    for (float v : r.imageFeature()) {
      mean += v / 88.0;
    }
    assertEquals(0, mean, 0.1);
    // same image, same answer
    assertEquals(r.logit(), model.score(pattern(700, 500, 2)).logit(), 0f);
  }

  @Test
  void batchingPatchesOfDifferentImagesDoesNotChangeTheirFeatures() {
    SpaiPatches a = model.inputPolicy().patches(pattern(300, 300, 1));
    SpaiPatches b = model.inputPolicy().patches(noise(512, 300, 2));
    try (NDManager m = NDManager.newBaseManager()) {
      float[] both = new float[a.pixels().length + b.pixels().length];
      System.arraycopy(a.pixels(), 0, both, 0, a.pixels().length);
      System.arraycopy(b.pixels(), 0, both, a.pixels().length, b.pixels().length);
      int n = a.count() + b.count();
      float[] joint = model.network().encodePatches(null, m.create(both, new Shape(n, 3, 224, 224)), false)
          .toFloatArray();
      float[] alone = model.network().encodePatches(null, m.create(b.pixels(), new Shape(b.count(), 3, 224, 224)),
          false).toFloatArray();
      float[] jointB = java.util.Arrays.copyOfRange(joint, a.count() * 88, n * 88);
      assertArrayEquals(alone, jointB, 1e-4f);
    }
  }

  @Test
  void chunkedEncodingGivesTheSameResult() {
    SpaiPatches p = model.inputPolicy().patches(pattern(700, 500, 3)); // 6 patches
    SpaiResult whole = model.score(p, 16);
    SpaiResult chunked = model.score(p, 4); // chunks of 4 and 2
    SpaiResult single = model.score(p, 1);
    for (int i = 0; i < 6; i++) {
      assertArrayEquals(whole.patchFeatures()[i], chunked.patchFeatures()[i], 1e-5f, "patch " + i);
      assertArrayEquals(whole.patchFeatures()[i], single.patchFeatures()[i], 1e-5f, "patch " + i);
    }
    assertEquals(whole.logit(), chunked.logit(), 1e-5);
    assertEquals(whole.logit(), single.logit(), 1e-5);
  }

  @Test
  void scoringImagesTogetherEqualsScoringThemAlone() {
    List<SpaiPatches> batch = List.of(
        model.inputPolicy().patches(pattern(700, 500, 0)), // 6 patches
        model.inputPolicy().patches(noise(300, 200, 3)), // 5 (five-crop)
        model.inputPolicy().patches(pattern(512, 512, 2))); // 4
    List<SpaiResult> together = model.scoreAll(batch, 7); // chunks of 7 span image boundaries
    for (int i = 0; i < batch.size(); i++) {
      SpaiResult alone = model.score(batch.get(i));
      assertEquals(alone.logit(), together.get(i).logit(), 1e-5, "image " + i);
      assertArrayEquals(alone.imageFeature(), together.get(i).imageFeature(), 1e-5f, "image " + i);
      assertEquals(alone.patches().size(), together.get(i).patches().size());
      for (int k = 0; k < alone.patches().size(); k++) {
        assertEquals(alone.patches().get(k).box(), together.get(i).patches().get(k).box());
        assertEquals(alone.patches().get(k).attention(), together.get(i).patches().get(k).attention(), 1e-6);
      }
    }
  }

  @Test
  void activationEstimateIsTensOfMegabytesForTheFullModel() {
    long full = SpaiModel.estimatedActivationBytesPerPatch(SpaiConfig.full());
    assertTrue(full > 20_000_000L && full < 80_000_000L, "full preset: " + full);
  }

  @Test
  void concurrentCallsGiveTheSequentialAnswers() throws Exception {
    RgbImage[] images = {pattern(448, 300, 0), noise(300, 300, 9), pattern(500, 500, 1), noise(224, 400, 4)};
    float[] sequential = new float[images.length];
    for (int i = 0; i < images.length; i++) {
      sequential[i] = model.score(images[i]).logit();
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Float>> futures = new ArrayList<>();
      for (RgbImage im : images) {
        futures.add(pool.submit(() -> model.score(im).logit()));
      }
      for (int i = 0; i < images.length; i++) {
        assertEquals(sequential[i], futures.get(i).get(), 1e-6, "image " + i);
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void logitsSpreadAcrossImages() {
    List<Float> logits = new ArrayList<>();
    for (int k = 0; k < 4; k++) {
      logits.add(model.score(pattern(448, 448, k)).logit());
    }
    for (int k = 0; k < 3; k++) {
      logits.add(model.score(noise(300 + 100 * k, 400, k)).logit());
    }
    double mean = logits.stream().mapToDouble(Float::doubleValue).average().orElseThrow();
    double sd = Math.sqrt(logits.stream().mapToDouble(l -> (l - mean) * (l - mean)).sum() / (logits.size() - 1));
    System.out.println("tiny seed 7 logits " + logits + " sd " + sd);
    assertTrue(sd > 0.3, "logits barely move across images: " + logits);
  }

  @Test
  void scoringLeavesNoArraysBehind() {
    BaseNDManager weights = (BaseNDManager) model.weightsManager();
    model.score(noise(300, 300, 5)); // warm-up: any lazily prepared state exists from here on
    int before = weights.getManagedArrays().size();
    for (int i = 0; i < 3; i++) {
      model.score(noise(250 + i, 500, i));
    }
    assertEquals(before, weights.getManagedArrays().size());
  }
}
