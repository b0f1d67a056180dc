package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sem-SPAI's SPAI input policies against the reference ({@code resize_policy.json}): {@code resize:224} (one
 * patch), {@code resize:448} (four, upscaling the small images) and {@code native_grid} (no five-crop), each through
 * the tiny SPAI with the golden weights.
 */
class ResizePolicyParityTest {
  static final double TOL = 1e-4;
  static Path spaiDir;
  static SpaiModel model;
  static JsonNode entries;

  @BeforeAll
  static void load() throws Exception {
    Path sem = Path.of(ResizePolicyParityTest.class.getResource("/golden/semantic/config.json").toURI()).getParent();
    spaiDir = sem.resolveSibling("spai");
    SpaiConfig cfg = SpaiConfig.fromJson(Files.readString(spaiDir.resolve("config.json")));
    model = SpaiModel.fromSafetensors(cfg, spaiDir.resolve("weights.safetensors"));
    entries = new ObjectMapper().readTree(sem.resolve("resize_policy.json").toFile()).get("entries");
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void everyPolicyAndImageMatchesTheReference() throws Exception {
    Map<String, double[]> worst = new HashMap<>();
    for (JsonNode e : entries) {
      String file = e.get("file").asText();
      String spec = e.get("policy").asText();
      SpaiInputPolicy policy = SpaiInputPolicy.parse(spec, model.config().patch());
      assertEquals(spec, policy.spec());
      RgbImage img = ImageDecoder.decode(Files.readAllBytes(spaiDir.resolve("images").resolve(file)));
      SpaiPatches p = policy.patches(img);
      String what = spec + " " + file;
      assertEquals(e.get("patches").size(), p.count(), what + " patches");
      assertEquals(spec.startsWith("resize:") ? SpaiPatches.Crop.RESIZE : SpaiPatches.Crop.GRID, p.crop(), what);
      SpaiResult r = model.score(p);
      double[] w = worst.computeIfAbsent(spec, k -> new double[4]);
      w[0] = Math.max(w[0], maxAbs(e.get("image_feature"), r.imageFeature(), what));
      float[] attention = new float[r.patches().size()];
      for (int i = 0; i < attention.length; i++) {
        attention[i] = r.patches().get(i).attention();
      }
      w[1] = Math.max(w[1], maxAbs(e.get("attention"), attention, what));
      double dl = Math.abs(e.get("logit").asDouble() - r.logit());
      assertTrue(dl <= TOL, what + " logit " + r.logit() + " vs " + e.get("logit"));
      w[2] = Math.max(w[2], dl);
      w[3] = Math.max(w[3], Math.abs(e.get("score").asDouble() - r.score()));
    }
    for (Map.Entry<String, double[]> w : worst.entrySet()) {
      assertTrue(w.getValue()[0] <= 5e-5, w.getKey() + " image feature " + w.getValue()[0]);
      assertTrue(w.getValue()[1] <= 5e-5, w.getKey() + " attention " + w.getValue()[1]);
      System.out.printf(Locale.ROOT, "policy %s parity max |Δ|: image feature %.3g, attention %.3g, logit %.3g, "
          + "score %.3g%n", w.getKey(), w.getValue()[0], w.getValue()[1], w.getValue()[2], w.getValue()[3]);
    }
    assertEquals(3, worst.size(), "resize:224, resize:448 and native_grid are all covered");
  }

  @Test
  void resizedBoxesMapBackOntoTheOriginalImage() {
    SpaiConfig.Patch patch = model.config().patch();
    // 1000×500 → 448²: four patches, each a quarter of the image
    SpaiPatches p = new ResizeInputPolicy(patch, 448).patches(blank(1000, 500));
    assertEquals(4, p.count());
    assertEquals(new PatchBox(0, 0, 500, 250), p.boxes().get(0));
    assertEquals(new PatchBox(500, 0, 500, 250), p.boxes().get(1));
    assertEquals(new PatchBox(0, 250, 500, 250), p.boxes().get(2));
    assertEquals(new PatchBox(500, 250, 500, 250), p.boxes().get(3));
    // 500×100 is padded to 500×224 first (62 rows above): the one patch covers the whole image, not the padding
    SpaiPatches q = new ResizeInputPolicy(patch, 224).patches(blank(500, 100));
    assertEquals(java.util.List.of(new PatchBox(0, 0, 500, 100)), q.boxes());
    // 700×500 → 1000²: 4×4 grid, the last row and column of 1000 − 896 px dropped
    assertEquals(16, new ResizeInputPolicy(patch, 1000).patches(blank(700, 500)).count());
  }

  @Test
  void policiesParseAndRefuseWhatTheyCannotDo() {
    SpaiConfig.Patch patch = model.config().patch();
    assertEquals("native", SpaiInputPolicy.parse(null, patch).spec());
    assertEquals("resize:1024", SpaiInputPolicy.parse("resize:1024", patch).spec());
    assertEquals("native_grid", SpaiInputPolicy.parse("native_grid", patch).spec());
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
        () -> SpaiInputPolicy.parse("resize:100", patch));
    assertTrue(small.getMessage().contains("at least one patch (224 px)"), small.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> SpaiInputPolicy.parse("resize:big", patch));
    assertTrue(bad.getMessage().contains("expected native, native_grid or resize:N"), bad.getMessage());
    // native five-crops a 300×260 image; native_grid runs it on its single grid patch
    assertEquals(5, SpaiInputPolicy.parse("native", patch).patches(blank(300, 260)).count());
    assertEquals(1, SpaiInputPolicy.parse("native_grid", patch).patches(blank(300, 260)).count());
  }

  static RgbImage blank(int w, int h) {
    return new RgbImage(w, h, new byte[w * h * 3]);
  }

  static double maxAbs(JsonNode ref, float[] v, String what) {
    assertEquals(ref.size(), v.length, what);
    double max = 0;
    for (int i = 0; i < v.length; i++) {
      max = Math.max(max, Math.abs(ref.get(i).asDouble() - v[i]));
    }
    return max;
  }
}
