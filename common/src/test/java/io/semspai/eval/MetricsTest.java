package io.semspai.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MetricsTest {
  // Sorted by score: 0.95(AI) | 0.8(AI, real) | 0.4(AI, AI, real) | 0.1(real); 4 AI, 3 real.
  static final int[] TIES_Y = {0, 1, 1, 0, 1, 0, 1};
  static final double[] TIES_S = {0.1, 0.4, 0.4, 0.4, 0.8, 0.8, 0.95};

  @Test
  void aucByHandWithTies() {
    // ROC points (0,0) (0,1/4) (1/3,1/2) (2/3,1) (1,1): trapezoids 0 + 1/8 + 1/4 + 1/3.
    assertEquals(1.0 / 8 + 1.0 / 4 + 1.0 / 3, Metrics.auroc(TIES_Y, TIES_S).value(), 1e-15);
  }

  @Test
  void apByHandWithTies() {
    // Recall 1/4, 1/2, 1, 1 at precision 1, 2/3, 2/3, 4/7: a tie group is one step, not one per image.
    assertEquals(0.25 * 1 + 0.25 * (2.0 / 3) + 0.5 * (2.0 / 3), Metrics.averagePrecision(TIES_Y, TIES_S).value(), 1e-15);
  }

  @Test
  void allScoresTiedGiveChanceAucAndPrevalenceAp() {
    int[] y = {0, 1, 0, 1, 1};
    double[] s = {0.5, 0.5, 0.5, 0.5, 0.5};
    assertEquals(0.5, Metrics.auroc(y, s).value(), 0);
    assertEquals(0.6, Metrics.averagePrecision(y, s).value(), 1e-15);
  }

  @Test
  void perfectAndInvertedRankings() {
    int[] y = {0, 0, 1, 1};
    assertEquals(1.0, Metrics.auroc(y, new double[] {0.1, 0.2, 0.8, 0.9}).value(), 0);
    assertEquals(1.0, Metrics.averagePrecision(y, new double[] {0.1, 0.2, 0.8, 0.9}).value(), 0);
    assertEquals(0.0, Metrics.auroc(y, new double[] {0.9, 0.8, 0.2, 0.1}).value(), 0);
    // Inverted: AI found at ranks 3 and 4 -> AP = 1/2*1/3 + 1/2*2/4.
    assertEquals(0.5 / 3 + 0.5 * 0.5, Metrics.averagePrecision(y, new double[] {0.9, 0.8, 0.2, 0.1}).value(), 1e-15);
  }

  @Test
  void matchesScikitLearnOnFixtures() throws Exception {
    JsonNode root;
    try (InputStream in = getClass().getResourceAsStream("/eval/metric_fixtures.json")) {
      root = new ObjectMapper().readTree(in);
    }
    int checked = 0;
    for (JsonNode c : root.get("cases")) {
      int n = c.get("labels").size();
      int[] y = new int[n];
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        y[i] = c.get("labels").get(i).asInt();
        s[i] = c.get("scores").get(i).asDouble();
      }
      String name = c.get("name").asText();
      assertEquals(c.get("auc").asDouble(), Metrics.auroc(y, s).value(), 1e-12, name + " AUC");
      assertEquals(c.get("ap").asDouble(), Metrics.averagePrecision(y, s).value(), 1e-12, name + " AP");
      assertEquals(c.get("ece15").asDouble(), Metrics.expectedCalibrationError(y, s).value(), 1e-12, name + " ECE");
      checked++;
    }
    assertEquals(5, checked);
  }

  @Test
  void singleClassIsUndefinedWithAReasonNotNaN() {
    int[] onlyAi = {1, 1, 1};
    double[] s = {0.2, 0.7, 0.9};
    MetricValue auc = Metrics.auroc(onlyAi, s);
    assertFalse(auc.isDefined());
    assertTrue(auc.undefinedReason().contains("no real images (class 0)"), auc.undefinedReason());
    assertEquals("n/a", auc.format());
    UndefinedMetricException e = assertThrows(UndefinedMetricException.class, auc::value);
    assertTrue(e.getMessage().startsWith("AUC needs both classes"));

    MetricValue ap = Metrics.averagePrecision(new int[] {0, 0}, new double[] {0.1, 0.3});
    assertFalse(ap.isDefined());
    assertTrue(ap.undefinedReason().contains("no AI images (class 1)"));
    // Accuracy is still defined on one class; the FPR is not (no reals).
    assertEquals(2.0 / 3, Metrics.accuracy(onlyAi, s, 0.5).value(), 1e-15);
    assertFalse(Metrics.falsePositiveRate(onlyAi, s, 0.5).isDefined());
    assertFalse(Metrics.balancedAccuracy(onlyAi, s, 0.5).isDefined());
    assertFalse(Metrics.auroc(new int[0], new double[0]).isDefined());
  }

  @Test
  void accuracyUsesTorchmetricsStrictRuleAndProfilesUseAtOrAbove() {
    int[] y = {1, 0, 1, 0};
    double[] s = {0.5, 0.5, 0.9, 0.1};
    // torchmetrics: 0.5 > 0.5 is false, so the AI image at 0.5 is wrong and the real one right.
    assertEquals(0.75, Metrics.accuracy(y, s, 0.5).value(), 0);
    assertEquals(0.75, Metrics.accuracy(y, s, 0.5, ThresholdRule.AT_OR_ABOVE).value(), 0);
    assertEquals(0.5, Metrics.falsePositiveRate(y, s, 0.5).value(), 0);
    assertEquals(0.0, Metrics.falsePositiveRate(y, s, 0.5, ThresholdRule.ABOVE).value(), 0);
    assertEquals(1.0, Metrics.truePositiveRate(y, s, 0.5).value(), 0);
    assertEquals(0.75, Metrics.balancedAccuracy(y, s, 0.5).value(), 0);
  }

  @Test
  void profileCountsUncertainAsRealForAccuracyAndReportsItsRate() {
    // t_low 0.3, t_high 0.7: AI >= 0.7, REAL < 0.3, UNCERTAIN in [0.3, 0.7).
    int[] y = {1, 1, 1, 0, 0, 0, 1, 0};
    double[] s = {0.9, 0.7, 0.5, 0.3, 0.1, 0.8, 0.2, 0.69};
    ProfileOutcome o = Metrics.profile(y, s, new EvalProfile("balanced", 0.3, 0.7));
    // Decided at t_high: AI for 0.9, 0.7, 0.8 -> correct: 0.9, 0.7 (AI), 0.3, 0.1, 0.69 (real) = 5 of 8.
    assertEquals(5.0 / 8, o.accuracy().value(), 0);
    // Uncertain: 0.5, 0.3, 0.69.
    assertEquals(3, o.uncertain());
    assertEquals(3.0 / 8, o.uncertainRate().value(), 0);
    // Decided ones: 0.9 AI ok, 0.7 AI ok, 0.1 REAL ok, 0.8 AI wrong, 0.2 REAL wrong -> 3 of 5.
    assertEquals(3.0 / 5, o.decidedAccuracy().value(), 0);
    assertEquals(1.0 / 4, o.realFalsePositiveRate().value(), 0);
    assertEquals(2.0 / 4, o.aiTruePositiveRate().value(), 0);

    ProfileOutcome allUnsure = Metrics.profile(new int[] {0, 1}, new double[] {0.4, 0.5}, new EvalProfile("x", 0.3, 0.7));
    assertFalse(allUnsure.decidedAccuracy().isDefined());
    assertEquals(1.0, allUnsure.uncertainRate().value(), 0);
  }

  @Test
  void eceMatchesTorchmetricsDocExampleAndKeepsScoreOneInItsOwnBin() {
    // torchmetrics' docstring: binary_calibration_error([.25,.25,.55,.75,.75], [0,0,1,1,1], n_bins=2) = 0.29.
    int[] y = {0, 0, 1, 1, 1};
    double[] s = {0.25, 0.25, 0.55, 0.75, 0.75};
    assertEquals(0.29, Metrics.expectedCalibrationError(y, s, 2).value(), 1e-12);
    // A perfectly calibrated set of certain scores.
    assertEquals(0.0, Metrics.expectedCalibrationError(new int[] {0, 1}, new double[] {0.0, 1.0}).value(), 0);
    // Boundary: 0.5 belongs to the upper of two bins.
    assertEquals(0.5, Metrics.expectedCalibrationError(new int[] {0}, new double[] {0.5}, 2).value(), 0);
    assertThrows(IllegalArgumentException.class,
        () -> Metrics.expectedCalibrationError(new int[] {0}, new double[] {1.5}));
  }

  @Test
  void rocAndPrCurvesFollowTorchmetricsShape() {
    Curve roc = Metrics.rocCurve(TIES_Y, TIES_S);
    assertEquals(5, roc.x().length);
    assertEquals(0.0, roc.x()[0]);
    assertEquals(Double.POSITIVE_INFINITY, roc.thresholds()[0]);
    assertEquals(1.0 / 3, roc.x()[2], 1e-15);
    assertEquals(0.5, roc.y()[2], 1e-15);
    assertEquals(1.0, roc.x()[4]);
    Curve pr = Metrics.precisionRecallCurve(TIES_Y, TIES_S);
    // Stops at full recall (threshold 0.4), reversed, then (0, 1).
    assertEquals(4, pr.x().length);
    assertEquals(1.0, pr.x()[0]);
    assertEquals(2.0 / 3, pr.y()[0], 1e-15);
    assertEquals(0.0, pr.x()[3]);
    assertEquals(1.0, pr.y()[3]);
    assertThrows(UndefinedMetricException.class, () -> Metrics.rocCurve(new int[] {1}, new double[] {0.3}));
  }

  @Test
  void calibrationToTargetFalsePositiveRate() {
    int[] y = new int[20];
    double[] s = new double[20];
    for (int i = 0; i < 10; i++) { // reals at 0.05, 0.10, ..., 0.50
      y[i] = 0;
      s[i] = 0.05 * (i + 1);
    }
    for (int i = 10; i < 20; i++) { // AI at 0.42, 0.47, ..., 0.87
      y[i] = 1;
      s[i] = 0.42 + 0.05 * (i - 10);
    }
    FprCalibration c = Metrics.thresholdForFpr(y, s, 0.1);
    // One real may be flagged (0.50); the next real below, 0.45, must not: midpoint to the next score, 0.47.
    assertEquals((0.45 + 0.47) / 2, c.threshold(), 1e-12);
    assertEquals(0.1, c.achievedFpr(), 0);
    assertEquals(9.0 / 10, c.achievedTpr().value(), 0);
    FprCalibration zero = Metrics.thresholdForFpr(y, s, 0.0);
    assertEquals(0.0, zero.achievedFpr(), 0);
    assertTrue(zero.threshold() > 0.5 && zero.threshold() <= 0.52);
    assertEquals(1.0, Metrics.thresholdForFpr(y, s, 1.0).achievedFpr(), 0);
    assertThrows(UndefinedMetricException.class,
        () -> Metrics.thresholdForFpr(new int[] {1, 1}, new double[] {0.2, 0.4}, 0.05));
  }

  @Test
  void pairedBootstrapIsSeededAndBracketsTheDifference() {
    SplittableRandom r = new SplittableRandom(7);
    int n = 400;
    int[] y = new int[n];
    double[] good = new double[n];
    double[] weak = new double[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 2;
      good[i] = clamp(0.3 + 0.4 * y[i] + 0.15 * r.nextGaussian());
      weak[i] = clamp(0.45 + 0.1 * y[i] + 0.2 * r.nextGaussian());
    }
    BootstrapInterval auc = Metrics.bootstrapDifference(RankMetric.AUC, y, good, weak, 500, 0.95, 42);
    double expected = Metrics.auroc(y, good).value() - Metrics.auroc(y, weak).value();
    assertEquals(expected, auc.estimate(), 1e-15);
    assertTrue(auc.lower() > 0 && auc.lower() < expected && expected < auc.upper(), auc.toString());
    assertEquals(auc, Metrics.bootstrapDifference(RankMetric.AUC, y, good, weak, 500, 0.95, 42));
    BootstrapInterval same = Metrics.bootstrapDifference(RankMetric.AP, y, good, good, 200, 0.95, 1);
    assertEquals(0.0, same.lower(), 0);
    assertEquals(0.0, same.upper(), 0);
    assertThrows(UndefinedMetricException.class,
        () -> Metrics.bootstrapDifference(RankMetric.AUC, new int[] {1, 1}, new double[] {1, 0}, new double[] {0, 1}, 1));
  }

  @Test
  void bootstrapWeightsScoreLikeDuplicatedImages() {
    // The bootstrap counts draws per image instead of copying arrays; that must equal scoring the copies.
    int[] y = {0, 1, 1, 0, 1, 0};
    double[] s = {0.3, 0.3, 0.6, 0.6, 0.9, 0.1};
    int[] counts = {2, 0, 1, 1, 2, 0};
    int[] dupY = {0, 0, 1, 0, 1, 1};
    double[] dupS = {0.3, 0.3, 0.6, 0.6, 0.9, 0.9};
    for (RankMetric m : RankMetric.values()) {
      assertEquals(Metrics.rank(m, dupY, dupS).value(), Metrics.rankWeighted(m, y, s, counts), 1e-15, m.name());
    }
    // Sorted copies: 0.9(1,1) 0.6(1,0) 0.3(0,0): recall 2/3 then 1 at precision 1 and 3/4.
    assertEquals(2.0 / 3 + 1.0 / 3 * 0.75, Metrics.averagePrecision(dupY, dupS).value(), 1e-15);
  }

  @Test
  void percentileIsNumpyLinear() {
    double[] v = {1, 2, 3, 4};
    assertEquals(1.075, Metrics.percentile(v, 0.025), 1e-12);
    assertEquals(3.925, Metrics.percentile(v, 0.975), 1e-12);
    assertEquals(2.5, Metrics.percentile(v, 0.5), 0);
  }

  @Test
  void rejectsBadInput() {
    assertThrows(IllegalArgumentException.class, () -> Metrics.auroc(new int[] {0, 2}, new double[] {0.1, 0.2}));
    assertThrows(IllegalArgumentException.class, () -> Metrics.auroc(new int[] {0, 1}, new double[] {0.1, Double.NaN}));
    assertThrows(IllegalArgumentException.class, () -> Metrics.auroc(new int[] {0, 1}, new double[] {0.1}));
  }

  private static double clamp(double v) {
    return Math.max(0, Math.min(1, v));
  }
}
