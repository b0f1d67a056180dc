package io.semspai.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.engine.ModelOutput;
import io.semspai.spai.SpaiBundles;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiPatches;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SemSpaiBundlesTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  static Path tiny;

  @BeforeAll
  static void write() throws Exception {
    tiny = SemSpaiBundles.writeRandom(shared.resolve("tiny"), SemSpaiBundles.Preset.named("tiny"), 3, "semspai-tiny",
        "0.1.0", "native");
  }

  @Test
  void randomBundleHoldsThreeComponentsFusionModeAndUncalibratedThresholds() throws Exception {
    BundleManifest m = ModelBundle.open(tiny).manifest();
    assertEquals(List.of("spai", "convnext", "head"), List.copyOf(m.components().keySet()));
    assertEquals("fusion", m.other().get("mode").asText());
    ThresholdProfiles t = ThresholdProfiles.fromJson(m.other().get("thresholds"));
    assertFalse(t.calibrated());
    assertEquals(ThresholdProfiles.Score.FUSED, t.appliesTo());
    assertEquals(new ThresholdProfile("balanced", 0.5, 0.5), t.balanced());
    assertEquals("random-init, seed 3", m.component("convnext").provenance().source());
    assertEquals("native", m.component("spai").setting("input_policy", null));
    ModelBundle.open(tiny).verify();
  }

  @Test
  void sameSeedSameBytesAndSpaiEqualsTheSpaiOnlyBundle() throws Exception {
    Path again = SemSpaiBundles.writeRandom(tmp.resolve("again"), SemSpaiBundles.Preset.named("tiny"), 3, "x",
        "0.1.0", "native");
    Path other = SemSpaiBundles.writeRandom(tmp.resolve("other"), SemSpaiBundles.Preset.named("tiny"), 4, "x",
        "0.1.0", "native");
    Path spaiOnly = SpaiBundles.writeRandom(tmp.resolve("spai"), SpaiConfig.tiny(), 3, "x", "0.1.0");
    BundleManifest a = ModelBundle.open(tiny).manifest();
    BundleManifest b = ModelBundle.open(again).manifest();
    BundleManifest c = ModelBundle.open(other).manifest();
    for (String comp : List.of("spai", "convnext", "head")) {
      assertEquals(a.component(comp).sha256(), b.component(comp).sha256(), comp);
      assertNotEquals(a.component(comp).sha256(), c.component(comp).sha256(), comp);
    }
    assertEquals(ModelBundle.open(spaiOnly).manifest().component("spai").sha256(), a.component("spai").sha256());
  }

  @Test
  void scoresImagesInFusionModeWithSpreadingScores() throws Exception {
    try (SemSpaiModel model = SemSpaiModel.load(tiny)) {
      assertEquals(SemSpaiModel.Mode.FUSION, model.mode());
      Set<Float> fused = new HashSet<>();
      for (String f : List.of("rgb_512x512.png", "small_180x150.png", "wide_500x100.png", "gray_450x230.png")) {
        ModelOutput o = model.score(GoldenBundle.image(f));
        assertEquals(88, o.spectralFeature().length);
        assertEquals(64, o.semanticFeature().length);
        assertTrue(o.fusedScore() > 0 && o.fusedScore() < 1);
        fused.add(o.fusedLogit());
      }
      assertEquals(4, fused.size(), "different images, different fused logits: " + fused);
      assertEquals(ThresholdProfile.Label.AI, model.thresholds().balanced().label(0.5));
    }
  }

  @Test
  void recordedResizePolicyIsUsed() throws Exception {
    Path b = SemSpaiBundles.writeRandom(tmp.resolve("r"), SemSpaiBundles.Preset.named("tiny"), 3, "x", "0.1.0",
        "resize:448");
    try (SemSpaiModel model = SemSpaiModel.load(b)) {
      assertEquals("resize:448", model.inputPolicy().spec());
      SpaiPatches p = model.prepare(GoldenBundle.image("small_180x150.png")).patches();
      assertEquals(4, p.count());
      assertEquals(SpaiPatches.Crop.RESIZE, p.crop());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SemSpaiBundles.writeRandom(
        tmp.resolve("bad"), SemSpaiBundles.Preset.named("tiny"), 3, "x", "0.1.0", "resize:10"));
    assertTrue(e.getMessage().contains("at least one patch"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("bad")));
  }

  @Test
  void spaiOnlyBundleNeedsSpectralModeAndSaysSo() throws Exception {
    Path spaiOnly = SpaiBundles.writeRandom(tmp.resolve("spai"), SpaiConfig.tiny(), 3, "spai-only", "0.1.0");
    BundleException e = assertThrows(BundleException.class,
        () -> SemSpaiModel.load(spaiOnly, SemSpaiModel.Mode.FUSION));
    assertTrue(e.getMessage().endsWith("has no convnext and head components (it has [spai]), so it cannot run in "
        + "fusion mode; use spectral mode (--mode spectral)"), e.getMessage());
    try (SemSpaiModel m = SemSpaiModel.load(spaiOnly)) {
      assertEquals(SemSpaiModel.Mode.SPECTRAL, m.mode(), "a bundle without the semantic parts defaults to spectral");
      assertEquals(null, m.backboneHashes());
    }
  }

  @Test
  void fusionBundleInSpectralModeUsesPlaceholderThresholdsForTheSpectralScore() throws Exception {
    try (SemSpaiModel m = SemSpaiModel.load(tiny, SemSpaiModel.Mode.SPECTRAL)) {
      assertEquals(null, m.convnext());
      assertEquals(ThresholdProfiles.Score.SPECTRAL, m.thresholds().appliesTo());
      assertTrue(m.thresholds().note().contains("set on the fused score"), m.thresholds().note());
      assertEquals(null, m.prepare(GoldenBundle.image("rgb_512x512.png")).semanticInput());
    }
  }
}
