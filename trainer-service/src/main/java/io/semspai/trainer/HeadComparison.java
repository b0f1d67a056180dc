package io.semspai.trainer;

import io.semspai.eval.TextTable;
import io.semspai.fusion.FusionConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Champion versus challenger on the holdout: both heads score the same cached features (clean, and perturbed when
 * given) and {@link PromotionGate#decide} judges, at the champion's {@code balanced} t_high. This is the one gate
 * that the trainer service and {@code semspai train-head} both run.
 *
 * @param decision the gate's verdict, reasons and both heads' holdout metrics
 * @param clean scores on the clean holdout
 * @param perturbed scores on the perturbed holdout, or null when none was given
 * @param tHigh the champion's balanced t_high the FPR check used
 */
public record HeadComparison(PromotionGate.Decision decision, PromotionGate.Scores clean,
    PromotionGate.Scores perturbed, double tHigh) {

  /**
   * Scores both heads and runs the gate.
   *
   * @param holdout clean holdout images (never trained or validated on)
   * @param perturbedHoldout derivative copies of holdout images (may be null or empty: no perturbed check)
   * @param championTHigh the champion's {@code balanced} t_high ({@code model.thresholds().balanced().tHigh()})
   */
  public static HeadComparison run(FusionConfig cfg, Map<String, float[]> champion, Map<String, float[]> challenger,
      List<TrainingExample> holdout, List<TrainingExample> perturbedHoldout, double championTHigh,
      PromotionGate.Rules rules) {
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
    return new HeadComparison(PromotionGate.decide(rules, clean, perturbed, championTHigh), clean, perturbed,
        championTHigh);
  }

  public boolean promoted() {
    return decision.promote();
  }

  /**
   * The metrics table: one row per metric, champion, challenger and the difference, e.g.
   *
   * <pre>
   * metric (holdout: 120 images, 60 real / 60 AI; perturbed 120)  champion  challenger  change
   * AUC                                                              0.5123      0.9871  +0.4748
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
    rows.add(new String[] {"balanced_accuracy", String.format(Locale.ROOT, "balanced accuracy @ t_high %.4f", tHigh)});
    rows.add(new String[] {"ece", "ECE"});
    rows.add(new String[] {"fpr_at_t_high", String.format(Locale.ROOT, "real-image FPR @ t_high %.4f", tHigh)});
    rows.add(new String[] {"perturbed_auc", "perturbed AUC"});
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
