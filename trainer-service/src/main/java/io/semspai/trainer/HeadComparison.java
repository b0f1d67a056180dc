package io.semspai.trainer;

import io.semspai.eval.TextTable;
import io.semspai.fusion.FusionConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Champion versus challenger on the holdout: both heads score the same cached features (clean, and perturbed when
 * given) and {@link PromotionGate#decide} judges, each head's false-positive rate and balanced accuracy taken at its
 * own balanced t_high (the champion's, and the challenger's recalibrated one: what each would run with). This is the
 * one gate that the trainer service and {@code semspai train-head} both run.
 *
 * @param decision the gate's verdict, reasons and both heads' holdout metrics
 * @param clean scores on the clean holdout
 * @param perturbed scores on the perturbed holdout, or null when none was given
 * @param championTHigh the champion's balanced t_high
 * @param challengerTHigh the challenger's balanced t_high
 */
public record HeadComparison(PromotionGate.Decision decision, PromotionGate.Scores clean,
    PromotionGate.Scores perturbed, double championTHigh, double challengerTHigh) {

  /**
   * Scores both heads and runs the gate.
   *
   * @param holdout clean holdout images (never trained or validated on)
   * @param perturbedHoldout derivative copies of holdout images (may be null or empty: no perturbed check)
   * @param championTHigh the champion's {@code balanced} t_high ({@code model.thresholds().balanced().tHigh()})
   * @param challengerTHigh the challenger's ({@code result.thresholds().balanced().tHigh()})
   */
  public static HeadComparison run(FusionConfig cfg, Map<String, float[]> champion, Map<String, float[]> challenger,
      List<TrainingExample> holdout, List<TrainingExample> perturbedHoldout, double championTHigh,
      double challengerTHigh, PromotionGate.Rules rules) {
    int[] y = labels(holdout);
    PromotionGate.Scores clean;
    PromotionGate.Scores perturbed = null;
    try (HeadScorer cp = new HeadScorer(cfg, champion); HeadScorer ch = new HeadScorer(cfg, challenger)) {
      clean = new PromotionGate.Scores(y, cp.scores(holdout), ch.scores(holdout));
      if (perturbedHoldout != null && !perturbedHoldout.isEmpty()) {
        perturbed = new PromotionGate.Scores(labels(perturbedHoldout), cp.scores(perturbedHoldout),
            ch.scores(perturbedHoldout));
      }
    }
    return new HeadComparison(PromotionGate.decide(rules, clean, perturbed, championTHigh, challengerTHigh), clean,
        perturbed, championTHigh, challengerTHigh);
  }

  /** {@link #run} with the challenger judged at the champion's t_high too. */
  public static HeadComparison run(FusionConfig cfg, Map<String, float[]> champion, Map<String, float[]> challenger,
      List<TrainingExample> holdout, List<TrainingExample> perturbedHoldout, double tHigh, PromotionGate.Rules rules) {
    return run(cfg, champion, challenger, holdout, perturbedHoldout, tHigh, tHigh, rules);
  }

  /** {@link #run} for a training result: the challenger's t_high is its recalibrated balanced one. */
  public static HeadComparison run(FusionConfig cfg, Map<String, float[]> champion, double championTHigh,
      TrainingResult challenger, List<TrainingExample> holdout, List<TrainingExample> perturbedHoldout,
      PromotionGate.Rules rules) {
    return run(cfg, champion, challenger.state(), holdout, perturbedHoldout, championTHigh,
        challenger.thresholds().balanced().tHigh(), rules);
  }

  public boolean promoted() {
    return decision.promote();
  }

  /**
   * The metrics table: one row per metric, champion, challenger and the difference, e.g.
   *
   * <pre>
   * holdout 54 (21 real / 33 AI), perturbed 54  champion  challenger   change
   * balanced t_high                               0.5000      0.6310
   * AUC                                           0.5325      0.9986  +0.4661
   * </pre>
   */
  public String table() {
    int ai = 0;
    for (int l : clean.labels()) {
      ai += l;
    }
    int real = clean.labels().length - ai;
    String title = String.format(Locale.ROOT, "holdout %d (%d real / %d AI)%s", clean.labels().length, real, ai,
        perturbed == null ? "" : ", perturbed " + perturbed.labels().length);
    TextTable t = new TextTable(List.of(title, "champion", "challenger", "change"));
    Map<String, Double> cp = decision.championMetrics();
    Map<String, Double> ch = decision.challengerMetrics();
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"auc", "AUC"});
    rows.add(new String[] {"ap", "AP"});
    rows.add(new String[] {"balanced_accuracy", "balanced accuracy @ t_high"});
    rows.add(new String[] {"ece", "ECE"});
    rows.add(new String[] {"fpr_at_t_high", "real-image FPR @ t_high"});
    rows.add(new String[] {"perturbed_auc", "perturbed AUC"});
    t.row(List.of("balanced t_high", fmt(championTHigh), fmt(challengerTHigh), ""));
    for (String[] r : rows) {
      if (!cp.containsKey(r[0])) {
        continue;
      }
      double a = cp.get(r[0]);
      double b = ch.get(r[0]);
      t.row(List.of(r[1], fmt(a), fmt(b), Double.isNaN(a) || Double.isNaN(b) ? "n/a"
          : String.format(Locale.ROOT, "%+.4f", b - a)));
    }
    return t.render();
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static int[] labels(List<TrainingExample> xs) {
    return xs.stream().mapToInt(TrainingExample::label).toArray();
  }
}
