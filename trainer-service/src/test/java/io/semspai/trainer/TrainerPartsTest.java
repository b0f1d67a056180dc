package io.semspai.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.eval.Metrics;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.FusionHead;
import io.semspai.fusion.ThresholdProfile;
import io.semspai.fusion.ThresholdProfiles;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The trainer's parts on synthetic numbers: weights, split, schedule, Platt scaling, threshold recalibration. */
class TrainerPartsTest {
  static final FusionConfig CFG = new FusionConfig(6, 5, 4, 3, 1e-5);

  static TrainingExample ex(String key, int label, double importance, long seed) {
    Random r = new Random(seed);
    float[] sp = new float[CFG.spectralDim()];
    float[] se = new float[CFG.semanticDim()];
    for (int i = 0; i < sp.length; i++) {
      sp[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < se.length; i++) {
      se[i] = (float) r.nextGaussian();
    }
    return new TrainingExample(key, sp, se, label, importance, null);
  }

  @Test
  void classBalanceGivesBothClassesTheSameWeightAndImportanceSetsTheMixWithinAClass() {
    List<TrainingExample> xs = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      xs.add(ex("ai" + i, 1, i < 10 ? 3.0 : 1.0, i)); // 10 from an under-represented source
    }
    for (int i = 0; i < 10; i++) {
      xs.add(ex("real" + i, 0, 2.0, 100 + i));
    }
    double[] w = HeadTrainer.weights(xs, true);
    double ai = 0;
    double real = 0;
    double sum = 0;
    for (int i = 0; i < w.length; i++) {
      sum += w[i];
      if (xs.get(i).label() == 1) {
        ai += w[i];
      } else {
        real += w[i];
      }
    }
    assertEquals(xs.size(), sum, 1e-9, "mean weight 1");
    assertEquals(ai, real, 1e-9, "classes weigh the same");
    assertEquals(3.0, w[0] / w[15], 1e-12, "importance ratio kept within a class");
    double[] plain = HeadTrainer.weights(xs, false);
    assertEquals(2.0 / 3.0, plain[35] / plain[0], 1e-12, "without balance the weights are the importance");
  }

  @Test
  void theValidationSplitIsStratifiedSeededOrderFreeAndKeepsDerivativesOutOfIt() {
    List<TrainingExample> xs = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      TrainingExample e = ex("img" + i, i < 20 ? 1 : 0, 1, i);
      xs.add(e);
      xs.add(e.copy("jpeg=80", e.spectral(), e.semantic()));
    }
    HeadTrainer.Split s = HeadTrainer.split(xs, 0.2, 7);
    assertEquals(4, s.validation().stream().filter(e -> e.label() == 1).count());
    assertEquals(6, s.validation().stream().filter(e -> e.label() == 0).count());
    assertTrue(s.validation().stream().noneMatch(TrainingExample::isAugmented));
    assertEquals(10, s.droppedAugmented());
    Set<String> valKeys = new HashSet<>();
    s.validation().forEach(e -> valKeys.add(e.key()));
    assertTrue(s.train().stream().noneMatch(e -> valKeys.contains(e.key())), "no image on both sides");
    assertEquals(80, s.train().size());

    List<TrainingExample> reversed = new ArrayList<>(xs);
    Collections.reverse(reversed);
    Set<String> again = new HashSet<>();
    HeadTrainer.split(reversed, 0.2, 7).validation().forEach(e -> again.add(e.key()));
    assertEquals(valKeys, again, "input order does not matter");
    Set<String> other = new HashSet<>();
    HeadTrainer.split(xs, 0.2, 8).validation().forEach(e -> other.add(e.key()));
    assertFalse(valKeys.equals(other), "the seed does");

    List<TrainingExample> conflicting = List.of(ex("a", 1, 1, 1), ex("a", 0, 1, 2));
    assertThrows(IllegalArgumentException.class, () -> HeadTrainer.split(conflicting, 0.2, 1));
  }

  @Test
  void trainingRefusesWhatItCannotLearnFrom() {
    Map<String, float[]> start = FusionHead.initialState(CFG, 1);
    List<TrainingExample> oneClass = List.of(ex("a", 1, 1, 1), ex("b", 1, 1, 2), ex("c", 1, 1, 3));
    var e = assertThrows(IllegalArgumentException.class, () -> HeadTrainer.train(start, CFG, oneClass,
        HeadTrainer.Options.defaults()));
    assertTrue(e.getMessage().contains("real and AI"), e.getMessage());
    TrainingExample a = ex("a", 1, 1, 1);
    List<TrainingExample> val = List.of(a.copy("blur=1", a.spectral(), a.semantic()), ex("b", 0, 1, 2));
    e = assertThrows(IllegalArgumentException.class, () -> HeadTrainer.train(start, CFG, List.of(ex("c", 1, 1, 3),
        ex("d", 0, 1, 4)), val, HeadTrainer.Options.defaults(), null));
    assertTrue(e.getMessage().contains("clean images only"), e.getMessage());
    TrainingExample wide = new TrainingExample("w", new float[7], new float[5], 1, 1, null);
    e = assertThrows(IllegalArgumentException.class, () -> HeadScorer.scores(CFG, start, List.of(wide)));
    assertTrue(e.getMessage().contains("other backbones"), e.getMessage());
  }

  @Test
  void scheduleWarmsUpThenFollowsACosineToTheFloor() {
    HeadTrainer.Options o = HeadTrainer.Options.defaults().withLearningRate(1e-3).withWarmupEpochs(1);
    assertEquals(o.minLearningRate(), HeadTrainer.learningRate(0, 10, 110, o), 1e-15);
    assertEquals((o.minLearningRate() + 1e-3) / 2, HeadTrainer.learningRate(5, 10, 110, o), 1e-15);
    assertEquals(1e-3, HeadTrainer.learningRate(10, 10, 110, o), 1e-15);
    assertEquals((o.minLearningRate() + 1e-3) / 2, HeadTrainer.learningRate(60, 10, 110, o), 1e-12);
    assertEquals(o.minLearningRate(), HeadTrainer.learningRate(110, 10, 110, o), 1e-15);
    assertEquals(1e-3, HeadTrainer.learningRate(0, 0, 100, o.withWarmupEpochs(0)), 1e-15, "no warmup: the peak");
  }

  @Test
  void plattScalingFoldsIntoTheLastLayerAndKeepsTheRanking() {
    Map<String, float[]> state = FusionHead.initialState(CFG, 3);
    List<TrainingExample> xs = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      xs.add(ex("k" + i, i % 2, 1, 500 + i));
    }
    LogitCalibration.Fit fit = new LogitCalibration.Fit(2.5, -0.75);
    try (HeadScorer before = new HeadScorer(CFG, state);
        HeadScorer after = new HeadScorer(CFG, LogitCalibration.fold(state, fit))) {
      float[] a = before.logits(xs);
      float[] b = after.logits(xs);
      for (int i = 0; i < a.length; i++) {
        assertEquals(fit.apply(a[i]), b[i], 1e-5);
      }
    }
    // under-confident logits (right side, too close to 0) get a scale above 1 and a lower loss
    float[] logits = new float[200];
    int[] y = new int[200];
    double[] w = new double[200];
    Random r = new Random(4);
    for (int i = 0; i < 200; i++) {
      y[i] = i % 2;
      logits[i] = (float) (0.3 * (y[i] == 1 ? 1 : -1) + 0.1 * r.nextGaussian());
      w[i] = 1;
    }
    LogitCalibration.Fit f = LogitCalibration.fit(logits, y, w);
    assertTrue(f.scale() > 1, f.toString());
    assertTrue(LogitCalibration.loss(logits, y, w, f.scale(), f.shift()) < LogitCalibration.loss(logits, y, w, 1, 0));
    // perfectly separated: the scale stops at its bound, the shift stays finite
    for (int i = 0; i < 200; i++) {
      logits[i] = (float) ((y[i] == 1 ? 3 : -3) + 0.1 * r.nextGaussian());
    }
    LogitCalibration.Fit sep = LogitCalibration.fit(logits, y, w);
    assertEquals(LogitCalibration.MAX_SCALE, sep.scale(), 1e-9);
    assertTrue(Math.abs(sep.shift()) < 5, sep.toString());
  }

  @Test
  void recalibrationMeetsItsRatesOnBothSides() {
    Random r = new Random(12);
    int n = 2000;
    int[] y = new int[n];
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 2;
      double z = r.nextGaussian() + (y[i] == 1 ? 1.2 : -1.2);
      s[i] = 1 / (1 + Math.exp(-z));
    }
    ThresholdProfiles p = ThresholdCalibration.calibrate(y, s);
    assertTrue(p.calibrated());
    assertEquals(ThresholdProfiles.Score.FUSED, p.appliesTo());
    for (ThresholdProfile t : List.of(p.balanced(), p.strict())) {
      double rate = t == p.balanced() ? 0.05 : 0.01;
      assertTrue(Metrics.falsePositiveRate(y, s, t.tHigh()).value() <= rate, t.toString());
      int ai = 0;
      int missed = 0;
      for (int i = 0; i < n; i++) {
        if (y[i] == 1) {
          ai++;
          missed += s[i] < t.tLow() ? 1 : 0;
        }
      }
      assertTrue((double) missed / ai <= rate, t.toString());
      assertTrue(t.tLow() < t.tHigh(), "overlapping classes leave an UNCERTAIN band: " + t);
    }
    assertTrue(p.strict().tHigh() > p.balanced().tHigh() && p.strict().tLow() < p.balanced().tLow());
    assertTrue(p.note().contains("2000 validation images"), p.note());

    // separated classes: one threshold midway between them, no UNCERTAIN band, no false positive spent
    double[] sep = new double[n];
    for (int i = 0; i < n; i++) {
      sep[i] = y[i] == 1 ? 0.8 + 0.1 * r.nextDouble() : 0.1 + 0.1 * r.nextDouble();
    }
    ThresholdProfile b = ThresholdCalibration.calibrate(y, sep).balanced();
    assertEquals(b.tLow(), b.tHigh(), 0.0);
    assertTrue(b.tHigh() > 0.2 && b.tHigh() < 0.8, b.toString());
    assertEquals(0.0, Metrics.falsePositiveRate(y, sep, b.tHigh()).value());
  }

  @Test
  void theGateCanJudgeEachHeadAtItsOwnThreshold() {
    int n = 400;
    int[] y = new int[n];
    double[] champion = new double[n];
    double[] challenger = new double[n];
    Random r = new Random(2);
    for (int i = 0; i < n; i++) {
      y[i] = i % 2;
      champion[i] = 1 / (1 + Math.exp(-(r.nextGaussian() + (y[i] == 1 ? 1.5 : -1.5))));
      // as good a ranking, shifted up: most real images score above 0.5
      challenger[i] = 1 / (1 + Math.exp(-(r.nextGaussian() + (y[i] == 1 ? 1.5 : -1.5) + 2)));
    }
    PromotionGate.Scores s = new PromotionGate.Scores(y, champion, challenger);
    PromotionGate.Decision same = PromotionGate.decide(PromotionGate.Rules.defaults(), s, null, 0.5);
    assertTrue(same.reasons().stream().anyMatch(x -> x.startsWith("FAILED real-image FPR at t_high 0.50")),
        same.reasons().toString());
    double own = ThresholdCalibration.calibrate(y, challenger).balanced().tHigh();
    double champ = ThresholdCalibration.calibrate(y, champion).balanced().tHigh();
    PromotionGate.Decision each = PromotionGate.decide(PromotionGate.Rules.defaults(), s, null, champ, own);
    assertTrue(each.reasons().stream().anyMatch(x -> x.startsWith("passed real-image FPR at own t_high")),
        each.reasons().toString());
  }
}
