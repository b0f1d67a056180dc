package io.semspai.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.LabelerKind;
import io.semspai.demo.DemoImages;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.ModelOutput;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.FusionHead;
import io.semspai.fusion.HeadBundle;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.image.RgbImage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training tests, on frozen features of the demo's two image kinds from a tiny random-init model
 * ({@link TinyDemoFeatures}: 300 images, about a fifth of them in the sha256 holdout bucket). The champion is that
 * model's own head: Sem-SPAI's random initialisation, which ranks the classes at chance.
 */
class HeadTrainerTest {
  static TinyDemoFeatures f;
  static FusionConfig cfg;
  static Map<String, float[]> champion;
  static double championTHigh;

  @BeforeAll
  static void features() {
    f = TinyDemoFeatures.get();
    cfg = f.model.headConfig();
    champion = f.model.headState();
    championTHigh = f.model.thresholds().balanced().tHigh();
    assertTrue(f.holdout.size() >= 40 && f.pool.size() >= 200, f.holdout.size() + " / " + f.pool.size());
  }

  @Test
  void aRetrainOnSeparableFeaturesIsPromotedWithHoldoutAucAbove095AndMovesEveryParameter() {
    TrainingResult r = HeadTrainer.train(champion, cfg, f.pool, HeadTrainer.Options.defaults().withSeed(1));
    HeadComparison c = HeadComparison.run(cfg, champion, championTHigh, r, f.holdout, f.perturbedHoldout,
        PromotionGate.Rules.defaults());
    String why = c.table() + String.join("\n", c.decision().reasons());
    System.out.printf("retrain on %d images (%d epochs, best %d, %d ms):%n%s%n", f.pool.size(), r.epochsRun(),
        r.bestEpoch(), r.elapsed().toMillis(), why);
    assertTrue(c.promoted(), why);
    assertTrue(c.decision().challengerMetrics().get("auc") >= 0.95, why);
    assertTrue(c.decision().championMetrics().get("auc") < 0.8, "the random-init champion should not separate: " + why);
    assertTrue(c.decision().challengerMetrics().containsKey("perturbed_auc"), why);
    assertTrue(r.validationMetrics().get("auc") >= 0.95, r.validationMetrics().toString());
    assertTrue(r.bestEpoch() >= 1 && r.curve().get(0).epoch() == 0 && r.curve().size() == r.epochsRun() + 1);
    assertTrue(r.thresholds().calibrated());
    assertTrue(r.thresholds().strict().tHigh() >= r.thresholds().balanced().tHigh());
    assertTrue(r.counts().validationReal() > 0 && r.counts().validationAi() > 0);
    assertEquals(f.pool.size(), r.counts().trainReal() + r.counts().trainAi() + r.counts().validationReal()
        + r.counts().validationAi());

    // every head tensor moved, and no entry is NaN
    assertEquals(champion.keySet(), r.state().keySet());
    for (String k : champion.keySet()) {
      float[] before = champion.get(k);
      float[] after = r.state().get(k);
      assertEquals(before.length, after.length, k);
      int moved = 0;
      for (int i = 0; i < before.length; i++) {
        assertTrue(Float.isFinite(after[i]), k);
        moved += before[i] != after[i] ? 1 : 0;
      }
      assertTrue(moved >= 0.5 * before.length, k + ": only " + moved + " of " + before.length + " entries moved");
    }
  }

  @Test
  void withShuffledLabelsNothingIsPromotedEvenAgainstARandomInitChampion() {
    List<TrainingExample> shuffled = shuffleLabels(f.pool, 3);
    TrainingResult r = HeadTrainer.train(champion, cfg, shuffled, HeadTrainer.Options.defaults().withSeed(2));
    // judged on the true holdout labels
    HeadComparison c = HeadComparison.run(cfg, champion, championTHigh, r, f.holdout, f.perturbedHoldout,
        PromotionGate.Rules.defaults());
    assertFalse(c.promoted(), c.table() + String.join("\n", c.decision().reasons()));
    assertTrue(c.decision().reasons().stream().anyMatch(x -> x.startsWith("FAILED AUC")), c.decision().reasons()
        .toString());
    // and on a holdout whose labels are shuffled too (garbage everywhere)
    HeadComparison c2 = HeadComparison.run(cfg, champion, r.state(), shuffleLabels(f.holdout, 4), null, championTHigh,
        PromotionGate.Rules.defaults());
    assertFalse(c2.promoted(), c2.table() + String.join("\n", c2.decision().reasons()));
  }

  /**
   * Feedback through the label book: a trusted dataset labels the holdout bucket, two honest moderators label the
   * rest, and a third moderator labels a third of everything and flips 30% of its labels. Its labels reach training
   * (where it is the only labeler of an image, or wins a tie-free majority) but never the holdout; the gate must not
   * promote a head that is worse there than the champion, which is a good head trained on clean labels.
   */
  @Test
  void oneLabelerFlipping30PercentDoesNotGetAWorseHeadPromoted() {
    Map<String, TrainingExample> byKey = new HashMap<>();
    f.examples.forEach(e -> byKey.put(e.key(), e));
    SplittableRandom rnd = new SplittableRandom(9);
    LabelBook book = new LabelBook(1000, true);
    int flipped = 0;
    for (TrainingExample e : f.examples) {
      if (Holdout.inBucket(e.key())) {
        book.add(fb(e.key(), e.label(), "coco-val", LabelerKind.TRUSTED_DATASET));
        continue;
      }
      double u = rnd.nextDouble();
      if (u < 1 / 3.0) {
        boolean flip = rnd.nextDouble() < 0.30;
        flipped += flip ? 1 : 0;
        book.add(fb(e.key(), flip ? 1 - e.label() : e.label(), "mod-rogue", LabelerKind.MODERATOR));
      } else {
        book.add(fb(e.key(), e.label(), u < 2 / 3.0 ? "mod-1" : "mod-2", LabelerKind.MODERATOR));
      }
    }
    LabelBook.Resolution res = book.resolveAll();
    List<TrainingExample> holdout = new ArrayList<>();
    List<TrainingExample> train = new ArrayList<>();
    int wrongInTraining = 0;
    for (LabelBook.Resolved l : res.labels()) {
      TrainingExample e = byKey.get(l.sha256()).withLabel(l.label() == FeedbackLabel.AI ? 1 : 0);
      if (Holdout.isHoldout(l.sha256(), l.strongestKind())) {
        assertEquals(byKey.get(l.sha256()).label(), e.label(), "holdout labels are the trusted dataset's");
        holdout.add(e);
      } else {
        wrongInTraining += e.label() != byKey.get(l.sha256()).label() ? 1 : 0;
        train.add(e);
      }
    }
    assertTrue(flipped > 15 && wrongInTraining == flipped, flipped + " flipped, " + wrongInTraining + " in training");

    // the champion: a head trained on clean labels of half the pool (a previous release)
    List<TrainingExample> firstHalf = f.pool.subList(0, f.pool.size() / 2);
    TrainingResult goodResult = HeadTrainer.train(champion, cfg, firstHalf, HeadTrainer.Options.defaults()
        .withSeed(5));
    Map<String, float[]> good = goodResult.state();
    double goodTHigh = goodResult.thresholds().balanced().tHigh();
    TrainingResult r = HeadTrainer.train(good, cfg, train, HeadTrainer.Options.defaults().withSeed(6));
    HeadComparison c = HeadComparison.run(cfg, good, goodTHigh, r, holdout, null, PromotionGate.Rules.defaults());
    Map<String, Double> ch = c.decision().challengerMetrics();
    Map<String, Double> cp = c.decision().championMetrics();
    assertTrue(cp.get("auc") >= 0.9, "the champion is a good head: " + c.table());
    String why = c.table() + String.join("\n", c.decision().reasons());
    if (c.promoted()) {
      assertTrue(ch.get("auc") >= cp.get("auc") - 0.01, why);
      assertTrue(ch.get("ap") >= cp.get("ap") - 0.01, why);
      assertTrue(ch.get("ece") <= cp.get("ece") + 0.05, why);
      assertTrue(ch.get("fpr_at_t_high") <= cp.get("fpr_at_t_high") + 0.02, why);
    }

    // and with the rogue as the only labeler, its 30% noise is all the challenger learns from
    List<TrainingExample> rogueOnly = new ArrayList<>();
    SplittableRandom r2 = new SplittableRandom(10);
    for (TrainingExample e : f.pool) {
      rogueOnly.add(r2.nextDouble() < 0.30 ? e.withLabel(1 - e.label()) : e);
    }
    TrainingResult noisy = HeadTrainer.train(good, cfg, rogueOnly, HeadTrainer.Options.defaults().withSeed(7));
    HeadComparison c2 = HeadComparison.run(cfg, good, goodTHigh, noisy, holdout, null, PromotionGate.Rules.defaults());
    String why2 = c2.table() + String.join("\n", c2.decision().reasons());
    if (c2.promoted()) {
      assertTrue(c2.decision().challengerMetrics().get("auc") >= c2.decision().championMetrics().get("auc") - 0.01,
          why2);
      assertTrue(c2.decision().challengerMetrics().get("ece") <= c2.decision().championMetrics().get("ece") + 0.05,
          why2);
    }
  }

  @Test
  void theSameSeedGivesTheSameHeadBitForBit() {
    HeadTrainer.Options o = HeadTrainer.Options.defaults().withSeed(42).withEpochs(12, 12);
    TrainingResult a = HeadTrainer.train(champion, cfg, f.pool, o);
    TrainingResult b = HeadTrainer.train(champion, cfg, new ArrayList<>(f.pool), o);
    for (String k : a.state().keySet()) {
      assertArrayEquals(a.state().get(k), b.state().get(k), k);
    }
    assertEquals(a.curve().size(), b.curve().size());
    for (int i = 0; i < a.curve().size(); i++) {
      assertEquals(a.curve().get(i).validationLoss(), b.curve().get(i).validationLoss(), 0.0);
    }
    assertEquals(a.thresholds(), b.thresholds());
    TrainingResult c = HeadTrainer.train(champion, cfg, f.pool, o.withSeed(43));
    assertFalse(Arrays.equals(a.state().get("fusion_layer.0.weight"), c.state().get("fusion_layer.0.weight")),
        "another seed, another head");
  }

  @Test
  void scoringCachedFeaturesEqualsTheModelsOwnHead() {
    List<TrainingExample> some = f.examples.subList(0, 20);
    double[] s = HeadScorer.scores(cfg, champion, some);
    float[] sp = new float[20 * cfg.spectralDim()];
    float[] se = new float[20 * cfg.semanticDim()];
    for (int i = 0; i < 20; i++) {
      System.arraycopy(some.get(i).spectral(), 0, sp, i * cfg.spectralDim(), cfg.spectralDim());
      System.arraycopy(some.get(i).semantic(), 0, se, i * cfg.semanticDim(), cfg.semanticDim());
    }
    float[] logits = f.model.fusedLogits(sp, se, 20);
    for (int i = 0; i < 20; i++) {
      assertEquals(HeadScorer.score(logits[i]), s[i], 0.0);
    }
    assertFalse(Arrays.equals(FusionHead.initialState(cfg, 1).get("classifier.3.weight"),
        champion.get("classifier.3.weight")));
  }

  @Test
  void aReleaseBundleCarriesTheHeadItsThresholdsAndTheGatesRecordAndSwapsIn(@TempDir Path tmp) throws Exception {
    TrainingResult r = HeadTrainer.train(champion, cfg, f.pool, HeadTrainer.Options.defaults().withSeed(8)
        .withEpochs(25, 5));
    HeadComparison c = HeadComparison.run(cfg, champion, championTHigh, r, f.holdout, null,
        PromotionGate.Rules.defaults());
    String holdoutVersion = Holdout.version(f.holdout.stream().map(TrainingExample::key).toList());
    Path dir = HeadRelease.write(tmp.resolve("head"), "semspai-tiny-test-head", "0.2.0", cfg, r, c,
        f.model.backboneHashes(), f.model.name(), f.model.version(), holdoutVersion);
    HeadBundle hb = HeadBundle.open(dir);
    assertEquals("0.2.0", hb.version());
    assertEquals(r.thresholds(), hb.thresholds());
    assertEquals(f.model.backboneHashes(), hb.trainedOn());
    JsonNode release = hb.bundle().manifest().other().get(HeadRelease.FIELD);
    assertEquals(c.promoted() ? "PROMOTED" : "REJECTED", release.get("status").asText());
    assertEquals(holdoutVersion, release.path("holdout").path("version").asText());
    assertEquals(f.model.version(), hb.bundle().manifest().other().get("parent_version").asText());
    assertEquals(c.decision().challengerMetrics().get("auc"), release.path("metrics").path("challenger").path("auc")
        .asDouble(), 0.0);
    assertEquals(r.bestEpoch(), release.path("training").path("best_epoch").asInt());
    try (SemSpaiModel swapped = f.model.swapHead(hb)) {
      assertEquals("0.2.0", swapped.version());
      List<TrainingExample> some = f.holdout.subList(0, 10);
      float[] sp = new float[10 * cfg.spectralDim()];
      float[] se = new float[10 * cfg.semanticDim()];
      for (int i = 0; i < 10; i++) {
        System.arraycopy(some.get(i).spectral(), 0, sp, i * cfg.spectralDim(), cfg.spectralDim());
        System.arraycopy(some.get(i).semantic(), 0, se, i * cfg.semanticDim(), cfg.semanticDim());
      }
      float[] logits = swapped.fusedLogits(sp, se, 10);
      double[] expected = HeadScorer.scores(cfg, r.state(), some);
      for (int i = 0; i < 10; i++) {
        assertEquals(expected[i], HeadScorer.score(logits[i]), 0.0);
      }
    }
  }

  @Test
  void theFeatureExtractorGivesTheModelsFeaturesAndTheSameCopiesEveryTime() throws Exception {
    RgbImage img = DemoImages.generate(DemoImages.Kind.UPSAMPLED, 224, 224, 4242);
    String sha = TinyDemoFeatures.sha256(img);
    ModelOutput direct = f.model.score(img);
    SemSpaiModel m = SemSpaiModel.load(f.bundle);
    try (InferenceEngine engine = new InferenceEngine(m, InferenceEngine.Options.defaults(m.bytesPerPatch()),
        new SimpleMeterRegistry())) {
      FeatureExtractor fx = new FeatureExtractor(engine);
      FeatureExtractor.Features clean = fx.submit(img, sha, null).get();
      assertArrayEquals(direct.spectralFeature(), clean.spectral(), 1e-5f);
      assertArrayEquals(direct.semanticFeature(), clean.semantic(), 1e-5f);
      List<FeatureExtractor.Features> a = join(fx.submitCopies(img, sha, Derivatives.of(3, 5).forTraining(sha)));
      List<FeatureExtractor.Features> b = join(fx.submitCopies(img, sha, Derivatives.of(3, 5).forTraining(sha)));
      assertEquals(3, a.size());
      for (int i = 0; i < 3; i++) {
        assertEquals(a.get(i).variant(), b.get(i).variant());
        assertArrayEquals(a.get(i).semantic(), b.get(i).semantic(), 1e-5f);
        assertFalse(Arrays.equals(clean.semantic(), a.get(i).semantic()), a.get(i).variant());
        TrainingExample e = a.get(i).toExample(1, 2.0);
        assertTrue(e.isAugmented() && e.key().equals(sha) && e.importance() == 2.0);
      }
    }
  }

  static List<FeatureExtractor.Features> join(List<CompletableFuture<FeatureExtractor.Features>> fs) {
    return fs.stream().map(CompletableFuture::join).toList();
  }

  static List<TrainingExample> shuffleLabels(List<TrainingExample> xs, long seed) {
    int[] labels = xs.stream().mapToInt(TrainingExample::label).toArray();
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = labels.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = labels[i];
      labels[i] = labels[j];
      labels[j] = t;
    }
    List<TrainingExample> out = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      out.add(xs.get(i).withLabel(labels[i]));
    }
    return out;
  }

  static Feedback fb(String sha, int label, String who, LabelerKind kind) {
    return Feedback.newBuilder().setSha256(sha).setLabel(label == 1 ? FeedbackLabel.AI : FeedbackLabel.REAL)
        .setLabelerId(who).setLabelerKind(kind).setSourcePlatform("demo").setLabeledAt(Instant.EPOCH).build();
  }
}
