package io.semspai.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.semspai.engine.BatchModel;
import io.semspai.engine.ModelOutput;
import io.semspai.engine.StageTimes;
import io.semspai.spai.SpaiResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sem-SPAI end to end against the PyTorch reference: a bundle of the golden weights (native SPAI input), every
 * fixture image through {@link SemSpaiModel#prepare} and one batched {@link SemSpaiModel#run}; spectral feature,
 * semantic feature, SPAI's own logit and the fused logit and score.
 */
class FusionParityTest {
  static final double SEMANTIC_TOL = 1e-5;
  static final double FEATURE_TOL = 5e-5;
  static final double LOGIT_TOL = 1e-4;

  @TempDir static Path tmp;
  static SemSpaiModel model;
  static JsonNode expected;

  @BeforeAll
  static void load() throws Exception {
    model = SemSpaiModel.load(GoldenBundle.create(tmp.resolve("golden"), "native", true));
    expected = GoldenBundle.expected();
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void batchOfAllImagesMatchesTheReference() throws Exception {
    List<BatchModel.Prepared> batch = new ArrayList<>();
    for (JsonNode img : expected.get("images")) {
      batch.add(model.prepare(GoldenBundle.image(img.get("file").asText())));
    }
    StageTimes times = new StageTimes();
    List<ModelOutput> out = model.run(batch, 7, times); // 7: encoder chunks span image boundaries
    double dSem = 0;
    double dSpec = 0;
    double dLogit = 0;
    double dSpecLogit = 0;
    double dScore = 0;
    int i = 0;
    for (JsonNode img : expected.get("images")) {
      String file = img.get("file").asText();
      ModelOutput o = out.get(i++);
      dSem = Math.max(dSem, maxAbs(img.get("semantic_feature"), o.semanticFeature(), file));
      dSpec = Math.max(dSpec, maxAbs(img.get("spectral_feature"), o.spectralFeature(), file));
      dSpecLogit = Math.max(dSpecLogit, Math.abs(img.get("spectral_logit").asDouble() - o.spectralLogit()));
      double dl = Math.abs(img.get("fused_logit").asDouble() - o.fusedLogit());
      assertTrue(dl <= LOGIT_TOL, file + " fused logit " + o.fusedLogit() + " vs " + img.get("fused_logit"));
      dLogit = Math.max(dLogit, dl);
      dScore = Math.max(dScore, Math.abs(img.get("fused_score").asDouble() - o.fusedScore()));
      assertEquals(o.fusedScore(), o.score(), "the verdict's score is the fused one in fusion mode");
    }
    assertTrue(dSem <= SEMANTIC_TOL, "semantic feature " + dSem);
    assertTrue(dSpec <= FEATURE_TOL, "spectral feature " + dSpec);
    assertTrue(dSpecLogit <= LOGIT_TOL, "spectral logit " + dSpecLogit);
    assertTrue(dScore <= LOGIT_TOL, "fused score " + dScore);
    for (StageTimes.Stage s : List.of(StageTimes.Stage.ENCODE, StageTimes.Stage.AGGREGATE, StageTimes.Stage.SEMANTIC,
        StageTimes.Stage.FUSE)) {
      assertTrue(times.ms(s) > 0, "stage " + s + " timed");
    }
    System.out.printf(Locale.ROOT, "Sem-SPAI parity max |Δ|: semantic feature %.3g, spectral feature %.3g, "
        + "spectral logit %.3g, fused logit %.3g, fused score %.3g%n", dSem, dSpec, dSpecLogit, dLogit, dScore);
  }

  /** Sem-SPAI's own SPAI input ({@code resize:224}, {@code resize:448}) and native size without five-crop. */
  @Test
  void fusedLogitsUnderEachSemSpaiInputPolicyMatchTheReference() throws Exception {
    JsonNode entries = GoldenBundle.JSON.readTree(GoldenBundle.semanticDir().resolve("resize_policy.json").toFile())
        .get("entries");
    for (String policy : List.of("resize:224", "resize:448", "native_grid")) {
      try (SemSpaiModel m = SemSpaiModel.load(GoldenBundle.create(tmp.resolve(policy.replace(':', '_')), policy,
          true))) {
        List<BatchModel.Prepared> batch = new ArrayList<>();
        List<JsonNode> refs = new ArrayList<>();
        for (JsonNode e : entries) {
          if (e.get("policy").asText().equals(policy)) {
            batch.add(m.prepare(GoldenBundle.image(e.get("file").asText())));
            refs.add(e);
          }
        }
        List<ModelOutput> out = m.run(batch, 16, new StageTimes());
        double dFused = 0;
        for (int i = 0; i < refs.size(); i++) {
          JsonNode e = refs.get(i);
          assertEquals(e.get("patches").size(), out.get(i).attention().size(), policy + " " + e.get("file"));
          assertEquals(e.get("logit").asDouble(), out.get(i).spectralLogit(), LOGIT_TOL, policy + " " + e.get("file"));
          dFused = Math.max(dFused, Math.abs(e.get("fused_logit").asDouble() - out.get(i).fusedLogit()));
        }
        assertEquals(10, refs.size());
        assertTrue(dFused <= LOGIT_TOL, policy + " fused logit " + dFused);
        System.out.printf(Locale.ROOT, "Sem-SPAI parity, SPAI input %s: fused logit max |Δ| %.3g%n", policy, dFused);
      }
    }
  }

  @Test
  void fusedLogitsFromCachedFeaturesEqualTheFullRun() throws Exception {
    JsonNode img = expected.get("images").get(3);
    ModelOutput o = model.score(GoldenBundle.image(img.get("file").asText()));
    assertEquals(o.fusedLogit(), model.fusedLogit(o.spectralFeature(), o.semanticFeature()), 0f);
    // and from the reference's own features
    float[] spec = floats(img.get("spectral_feature"));
    float[] sem = floats(img.get("semantic_feature"));
    assertEquals(img.get("fused_logit").asDouble(), model.fusedLogit(spec, sem), LOGIT_TOL);
  }

  @Test
  void spectralModeIsPureSpaiAndReadsNoSemanticWeights() throws Exception {
    // a SPAI-only bundle: no convnext, no head
    try (SemSpaiModel spectral = SemSpaiModel.load(GoldenBundle.create(tmp.resolve("spai-only"), "native", false),
        SemSpaiModel.Mode.SPECTRAL)) {
      assertNull(spectral.convnext());
      JsonNode img = expected.get("images").get(1);
      BatchModel.Prepared p = spectral.prepare(GoldenBundle.image(img.get("file").asText()));
      assertNull(p.semanticInput());
      ModelOutput o = spectral.run(List.of(p), 16, new StageTimes()).get(0);
      assertNull(o.fusedLogit());
      assertNull(o.semanticFeature());
      assertEquals(img.get("spectral_logit").asDouble(), o.spectralLogit(), LOGIT_TOL);
      assertEquals(o.spectralScore(), o.score());
      SpaiResult direct = spectral.spai().score(GoldenBundle.image(img.get("file").asText()));
      assertEquals(direct.logit(), o.spectralLogit(), 0f);
      assertEquals(ThresholdProfiles.Score.SPECTRAL, spectral.thresholds().appliesTo());
      assertTrue(!spectral.thresholds().calibrated());
    }
  }

  static float[] floats(JsonNode a) {
    float[] f = new float[a.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = a.get(i).floatValue();
    }
    return f;
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
