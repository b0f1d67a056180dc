package io.semspai.trainer;

import io.semspai.eval.BootstrapInterval;
import io.semspai.eval.Metrics;
import io.semspai.eval.MetricValue;
import io.semspai.eval.RankMetric;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides whether a challenger head replaces the champion. Every condition is checked on the same holdout and every
 * one must hold:
 *
 * <ul>
 *   <li>absolute floors on AUC and AP, so beating a random-init champion is not enough;
 *   <li>AUC and AP no worse than the champion's: the lower end of the paired-bootstrap 95% interval of
 *       (challenger − champion) stays above −margin;
 *   <li>the false-positive rate on real images at the champion's {@code balanced} t_high rises by at most a margin;
 *   <li>ECE gets worse by at most a margin;
 *   <li>AUC on the perturbed holdout (JPEG, rescale, blur, crop copies) drops by at most a margin.
 * </ul>
 */
public final class PromotionGate {
  /** The gate's thresholds; see docs/trainer.md. */
  public record Rules(double minAuc, double minAp, double rankMargin, double fprMargin, double eceMargin,
      double perturbedAucMargin, int resamples, long seed) {
    public static Rules defaults() {
      return new Rules(0.70, 0.70, 0.01, 0.02, 0.05, 0.02, 1000, 42);
    }
  }

  /** Scores of both heads on one labelled set. */
  public record Scores(int[] labels, double[] champion, double[] challenger) {
    public Scores {
      if (labels.length != champion.length || labels.length != challenger.length) {
        throw new IllegalArgumentException("labels and both score arrays must have the same length");
      }
    }
  }

  /** The verdict, with every check's numbers, and the challenger's holdout metrics for the release. */
  public record Decision(boolean promote, List<String> reasons, Map<String, Double> challengerMetrics,
      Map<String, Double> championMetrics) {}

  private PromotionGate() {}

  /** @param tHigh the champion's balanced t_high, or NaN when its thresholds are uncalibrated placeholders */
  public static Decision decide(Rules r, Scores clean, Scores perturbed, double tHigh) {
    return decide(r, clean, perturbed, tHigh, tHigh);
  }

  /**
   * The same checks with each head's FPR and balanced accuracy measured at its own balanced t_high: the champion's,
   * and the challenger's recalibrated one (what each would run with in the detector).
   */
  public static Decision decide(Rules r, Scores clean, Scores perturbed, double championTHigh,
      double challengerTHigh) {
    List<String> failed = new ArrayList<>();
    List<String> passed = new ArrayList<>();
    Map<String, Double> ch = metrics(clean.labels(), clean.challenger(), perturbed == null ? null
        : perturbed.challenger(), perturbed == null ? null : perturbed.labels(), challengerTHigh);
    Map<String, Double> cp = metrics(clean.labels(), clean.champion(), perturbed == null ? null
        : perturbed.champion(), perturbed == null ? null : perturbed.labels(), championTHigh);
    if (Double.isNaN(ch.get("auc"))) {
      return new Decision(false, List.of("holdout holds one class only: nothing can be compared"), ch, cp);
    }
    check(ch.get("auc") >= r.minAuc(), String.format("AUC %.4f vs floor %.2f", ch.get("auc"), r.minAuc()),
        passed, failed);
    check(ch.get("ap") >= r.minAp(), String.format("AP %.4f vs floor %.2f", ch.get("ap"), r.minAp()), passed, failed);
    for (RankMetric m : new RankMetric[] {RankMetric.AUC, RankMetric.AP}) {
      BootstrapInterval ci = Metrics.bootstrapDifference(m, clean.labels(), clean.challenger(), clean.champion(),
          r.resamples(), 0.95, r.seed());
      check(ci.lower() > -r.rankMargin(), String.format("%s difference %.4f, 95%% CI [%.4f, %.4f] vs -%.3f",
          m.name(), ci.estimate(), ci.lower(), ci.upper(), r.rankMargin()), passed, failed);
    }
    if (Double.isNaN(championTHigh)) {
      // The champion's thresholds are placeholders (a random-init bundle): its "FPR" at 0.5 says nothing.
      passed.add("real-image FPR check skipped: the champion's thresholds are uncalibrated (the floors still apply)");
    } else {
      double dFpr = ch.get("fpr_at_t_high") - cp.get("fpr_at_t_high");
      String at = championTHigh == challengerTHigh ? String.format("t_high %.2f", championTHigh)
          : String.format("own t_high (%.4f vs %.4f)", challengerTHigh, championTHigh);
      check(dFpr <= r.fprMargin(), String.format("real-image FPR at %s: %.4f vs champion %.4f (margin %.3f)",
          at, ch.get("fpr_at_t_high"), cp.get("fpr_at_t_high"), r.fprMargin()), passed, failed);
    }
    if (Double.isNaN(championTHigh)) {
      // Scores that all sit near 0.5 have a tiny ECE on a balanced holdout: comparing with them would demand more
      // calibration from the challenger than any real champion offers.
      passed.add(String.format("ECE comparison skipped against an uncalibrated champion (challenger ECE %.4f)",
          ch.get("ece")));
    } else {
      double dEce = ch.get("ece") - cp.get("ece");
      check(dEce <= r.eceMargin(), String.format("ECE %.4f vs champion %.4f (margin %.3f)", ch.get("ece"),
          cp.get("ece"), r.eceMargin()), passed, failed);
    }
    if (perturbed != null) {
      double drop = cp.get("perturbed_auc") - ch.get("perturbed_auc");
      check(!(drop > r.perturbedAucMargin()), String.format("perturbed AUC %.4f vs champion %.4f (margin %.3f)",
          ch.get("perturbed_auc"), cp.get("perturbed_auc"), r.perturbedAucMargin()), passed, failed);
    }
    List<String> reasons = new ArrayList<>();
    failed.forEach(f -> reasons.add("FAILED " + f));
    passed.forEach(p -> reasons.add("passed " + p));
    return new Decision(failed.isEmpty(), reasons, ch, cp);
  }

  private static void check(boolean ok, String what, List<String> passed, List<String> failed) {
    (ok ? passed : failed).add(what);
  }

  /** AUC, AP, balanced accuracy and FPR at t_high, ECE, and the perturbed AUC when given. NaN when undefined. */
  public static Map<String, Double> metrics(int[] labels, double[] scores, double[] perturbedScores,
      int[] perturbedLabels, double tHigh0) {
    double tHigh = Double.isNaN(tHigh0) ? 0.5 : tHigh0;
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("auc", v(Metrics.auroc(labels, scores)));
    m.put("ap", v(Metrics.averagePrecision(labels, scores)));
    m.put("balanced_accuracy", v(Metrics.balancedAccuracy(labels, scores, tHigh, io.semspai.eval.ThresholdRule
        .AT_OR_ABOVE)));
    m.put("fpr_at_t_high", v(Metrics.falsePositiveRate(labels, scores, tHigh, io.semspai.eval.ThresholdRule
        .AT_OR_ABOVE)));
    m.put("ece", v(Metrics.expectedCalibrationError(labels, scores)));
    if (perturbedScores != null) {
      m.put("perturbed_auc", v(Metrics.auroc(perturbedLabels, perturbedScores)));
    }
    return m;
  }

  private static double v(MetricValue x) {
    return x.isDefined() ? x.value() : Double.NaN;
  }
}
