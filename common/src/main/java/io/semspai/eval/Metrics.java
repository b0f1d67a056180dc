package io.semspai.eval;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Binary detection metrics in double precision. Labels are 0 (real) and 1 (AI); scores are the model's
 * probabilities that an image is AI.
 *
 * <p>AUC and AP follow torchmetrics' exact ({@code thresholds=None}) definitions, which are scikit-learn's: images
 * are sorted by score, tied scores form one threshold, ROC area is the trapezoidal rule from (0,0), AP is the
 * step-wise sum {@code sum_n (R_n - R_{n-1}) P_n}. Upstream SPAI reports exactly these (BinaryAUROC,
 * BinaryAveragePrecision). Unlike torchmetrics, which returns 0 or NaN with a warning, a set with one class gives
 * an undefined {@link MetricValue} that says which class is missing.
 *
 * <p>Scores are not passed through a sigmoid: callers give probabilities (torchmetrics would apply one to values
 * outside [0,1]).
 */
public final class Metrics {
  public static final int DEFAULT_ECE_BINS = 15;
  public static final int DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
  public static final double DEFAULT_CONFIDENCE = 0.95;

  private Metrics() {}

  // ---------------------------------------------------------------- threshold-free metrics

  public static MetricValue auroc(int[] labels, double[] scores) {
    return rank(RankMetric.AUC, labels, scores);
  }

  public static MetricValue averagePrecision(int[] labels, double[] scores) {
    return rank(RankMetric.AP, labels, scores);
  }

  public static MetricValue rank(RankMetric metric, int[] labels, double[] scores) {
    check(labels, scores);
    String missing = missingClass(labels, metric.name());
    if (missing != null) {
      return MetricValue.undefined(missing);
    }
    Sorted sorted = Sorted.of(labels, scores);
    return MetricValue.of(sorted.rank(metric, null));
  }

  /** ROC points (fpr, tpr) from (0,0) to (1,1), one per distinct threshold. */
  public static Curve rocCurve(int[] labels, double[] scores) {
    check(labels, scores);
    requireBothClasses(labels, "ROC curve");
    Clf clf = Sorted.of(labels, scores).clf(null);
    int m = clf.count;
    double[] fpr = new double[m + 1];
    double[] tpr = new double[m + 1];
    double[] thr = new double[m + 1];
    thr[0] = Double.POSITIVE_INFINITY;
    double fTotal = clf.fps[m - 1];
    double tTotal = clf.tps[m - 1];
    for (int i = 0; i < m; i++) {
      fpr[i + 1] = clf.fps[i] / fTotal;
      tpr[i + 1] = clf.tps[i] / tTotal;
      thr[i + 1] = clf.thresholds[i];
    }
    return new Curve(fpr, tpr, thr);
  }

  /** PR points as torchmetrics returns them: x = recall (decreasing), y = precision, ending at (0, 1). */
  public static Curve precisionRecallCurve(int[] labels, double[] scores) {
    check(labels, scores);
    requireBothClasses(labels, "precision-recall curve");
    Clf clf = Sorted.of(labels, scores).clf(null);
    double total = clf.tps[clf.count - 1];
    int last = 0;
    while (clf.tps[last] < total) {
      last++;
    }
    int m = last + 1;
    double[] recall = new double[m + 1];
    double[] precision = new double[m + 1];
    double[] thr = new double[m];
    for (int i = 0; i < m; i++) {
      int j = last - i;
      recall[i] = clf.tps[j] / total;
      precision[i] = clf.tps[j] / (clf.tps[j] + clf.fps[j]);
      thr[i] = clf.thresholds[j];
    }
    recall[m] = 0;
    precision[m] = 1;
    return new Curve(recall, precision, thr);
  }

  // ---------------------------------------------------------------- thresholded metrics

  /** Upstream's accuracy: AI when {@code score > threshold} (torchmetrics {@code BinaryAccuracy}). */
  public static MetricValue accuracy(int[] labels, double[] scores, double threshold) {
    return accuracy(labels, scores, threshold, ThresholdRule.ABOVE);
  }

  public static MetricValue accuracy(int[] labels, double[] scores, double threshold, ThresholdRule rule) {
    check(labels, scores);
    if (labels.length == 0) {
      return MetricValue.undefined("accuracy needs at least one scored image");
    }
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      if ((rule.isAi(scores[i], threshold) ? 1 : 0) == labels[i]) {
        correct++;
      }
    }
    return MetricValue.of((double) correct / labels.length);
  }

  /** Share of real images called AI, AI when {@code score >= threshold} (the profiles' rule). */
  public static MetricValue falsePositiveRate(int[] labels, double[] scores, double threshold) {
    return rateOfClass(labels, scores, threshold, ThresholdRule.AT_OR_ABOVE, 0, "false-positive rate");
  }

  public static MetricValue falsePositiveRate(int[] labels, double[] scores, double threshold, ThresholdRule rule) {
    return rateOfClass(labels, scores, threshold, rule, 0, "false-positive rate");
  }

  /** Share of AI images called AI, AI when {@code score >= threshold}. */
  public static MetricValue truePositiveRate(int[] labels, double[] scores, double threshold) {
    return rateOfClass(labels, scores, threshold, ThresholdRule.AT_OR_ABOVE, 1, "true-positive rate");
  }

  public static MetricValue truePositiveRate(int[] labels, double[] scores, double threshold, ThresholdRule rule) {
    return rateOfClass(labels, scores, threshold, rule, 1, "true-positive rate");
  }

  /** (TPR + TNR) / 2, AI when {@code score >= threshold}; undefined unless both classes are present. */
  public static MetricValue balancedAccuracy(int[] labels, double[] scores, double threshold) {
    return balancedAccuracy(labels, scores, threshold, ThresholdRule.AT_OR_ABOVE);
  }

  public static MetricValue balancedAccuracy(int[] labels, double[] scores, double threshold, ThresholdRule rule) {
    check(labels, scores);
    String missing = missingClass(labels, "balanced accuracy");
    if (missing != null) {
      return MetricValue.undefined(missing);
    }
    double tpr = rateOfClass(labels, scores, threshold, rule, 1, "").value();
    double fpr = rateOfClass(labels, scores, threshold, rule, 0, "").value();
    return MetricValue.of((tpr + (1 - fpr)) / 2);
  }

  /** A profile applied to a labelled set; see {@link ProfileOutcome} for how UNCERTAIN counts. */
  public static ProfileOutcome profile(int[] labels, double[] scores, EvalProfile profile) {
    check(labels, scores);
    int n = labels.length;
    int correct = 0;
    int uncertain = 0;
    int decided = 0;
    int decidedCorrect = 0;
    int real = 0;
    int ai = 0;
    int realFlagged = 0;
    int aiFlagged = 0;
    for (int i = 0; i < n; i++) {
      double s = scores[i];
      boolean isAi = s >= profile.tHigh();
      boolean isUncertain = !isAi && s >= profile.tLow();
      if ((isAi ? 1 : 0) == labels[i]) {
        correct++;
      }
      if (isUncertain) {
        uncertain++;
      } else {
        decided++;
        if ((isAi ? 1 : 0) == labels[i]) {
          decidedCorrect++;
        }
      }
      if (labels[i] == 0) {
        real++;
        if (isAi) {
          realFlagged++;
        }
      } else {
        ai++;
        if (isAi) {
          aiFlagged++;
        }
      }
    }
    MetricValue none = MetricValue.undefined("no scored images");
    return new ProfileOutcome(
        profile,
        n,
        ai,
        real,
        uncertain,
        n == 0 ? none : MetricValue.of((double) correct / n),
        n == 0 ? none : MetricValue.of((double) uncertain / n),
        decided == 0
            ? MetricValue.undefined("every image is UNCERTAIN under profile " + profile.name())
            : MetricValue.of((double) decidedCorrect / decided),
        real == 0 ? MetricValue.undefined(noClass(0, "false-positive rate")) : MetricValue.of((double) realFlagged / real),
        ai == 0 ? MetricValue.undefined(noClass(1, "true-positive rate")) : MetricValue.of((double) aiFlagged / ai));
  }

  /**
   * Expected calibration error with torchmetrics' {@code BinaryCalibrationError(n_bins, norm="l1")} binning: the
   * confidence is the AI probability itself and the "accuracy" the label, bins are equal-width {@code [k/B,
   * (k+1)/B)}, and a score of exactly 1.0 falls in a bin of its own (torchmetrics' bucketize quirk, kept).
   * ECE = sum over bins of (share of images) x |mean label - mean score|.
   */
  public static MetricValue expectedCalibrationError(int[] labels, double[] scores) {
    return expectedCalibrationError(labels, scores, DEFAULT_ECE_BINS);
  }

  public static MetricValue expectedCalibrationError(int[] labels, double[] scores, int bins) {
    check(labels, scores);
    if (bins < 1) {
      throw new IllegalArgumentException("ECE needs at least one bin, got " + bins);
    }
    if (labels.length == 0) {
      return MetricValue.undefined("ECE needs at least one scored image");
    }
    double[] count = new double[bins + 1];
    double[] conf = new double[bins + 1];
    double[] acc = new double[bins + 1];
    for (int i = 0; i < labels.length; i++) {
      double s = scores[i];
      if (s < 0 || s > 1) {
        throw new IllegalArgumentException("ECE needs probabilities in [0,1], image " + i + " has score " + s);
      }
      int b = bin(s, bins);
      count[b]++;
      conf[b] += s;
      acc[b] += labels[i];
    }
    double ece = 0;
    for (int b = 0; b <= bins; b++) {
      if (count[b] > 0) {
        ece += Math.abs(acc[b] / count[b] - conf[b] / count[b]) * (count[b] / labels.length);
      }
    }
    return MetricValue.of(ece);
  }

  /** Index of the largest boundary k/B that is {@code <= s}, as {@code bucketize(right=True) - 1} gives. */
  private static int bin(double s, int bins) {
    int b = (int) Math.floor(s * bins);
    // Guard against s*bins rounding across a boundary: compare with the boundary itself.
    while (b > 0 && s < (double) b / bins) {
      b--;
    }
    while (b < bins && s >= (double) (b + 1) / bins) {
      b++;
    }
    return b;
  }

  // ---------------------------------------------------------------- calibration to a target FPR

  /**
   * A threshold whose false-positive rate on the real images (AI when {@code score >= t}) is at most
   * {@code targetFpr} and that flags as many AI images as such a threshold can. Those thresholds form an interval
   * from just above the highest real score that must stay unflagged up to the next observed score; all give the
   * same empirical rates, and the midpoint is returned so the margin is equal on both sides. When every real image
   * may be flagged the threshold is the lowest score.
   *
   * @throws UndefinedMetricException when the set holds no real images
   */
  public static FprCalibration thresholdForFpr(int[] labels, double[] scores, double targetFpr) {
    check(labels, scores);
    if (!(targetFpr >= 0 && targetFpr <= 1)) {
      throw new IllegalArgumentException("target false-positive rate must be in [0,1], got " + targetFpr);
    }
    int real = 0;
    for (int l : labels) {
      real += 1 - l;
    }
    if (real == 0) {
      throw new UndefinedMetricException(
          "cannot calibrate to a false-positive rate: the set has no real images (class 0)");
    }
    double[] realScores = new double[real];
    int k = 0;
    double min = Double.POSITIVE_INFINITY;
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] == 0) {
        realScores[k++] = scores[i];
      }
      min = Math.min(min, scores[i]);
    }
    Arrays.sort(realScores); // ascending
    // Allowed false positives; the small slack keeps 0.05 * 100 from landing on 4.999... .
    int allowed = (int) Math.floor(targetFpr * real + 1e-9);
    double threshold;
    if (allowed >= real) {
      threshold = min;
    } else {
      // The (allowed+1)-th highest real score must fall below the threshold.
      double below = realScores[real - 1 - allowed];
      double next = Double.POSITIVE_INFINITY;
      for (double s : scores) {
        if (s > below && s < next) {
          next = s;
        }
      }
      threshold = next == Double.POSITIVE_INFINITY ? Math.nextUp(below) : below + (next - below) / 2;
      if (!(threshold > below)) {
        threshold = Math.nextUp(below);
      }
    }
    MetricValue fpr = falsePositiveRate(labels, scores, threshold);
    MetricValue tpr = truePositiveRate(labels, scores, threshold);
    return new FprCalibration(targetFpr, threshold, fpr.value(), tpr, real);
  }

  // ---------------------------------------------------------------- paired bootstrap

  /**
   * Paired bootstrap of {@code metric(a) - metric(b)}: the same resampled images (drawn with replacement, n of
   * them) score both models, so the interval reflects the difference, not each model's own spread. Resamples
   * with one class only are discarded and drawn again. The interval is the percentile interval with numpy's
   * default (linear) interpolation. Deterministic for a given seed.
   *
   * @throws UndefinedMetricException when the labels hold one class only
   */
  public static BootstrapInterval bootstrapDifference(
      RankMetric metric, int[] labels, double[] a, double[] b, int resamples, double confidence, long seed) {
    check(labels, a);
    check(labels, b);
    if (resamples < 1) {
      throw new IllegalArgumentException("need at least one bootstrap resample, got " + resamples);
    }
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0,1), got " + confidence);
    }
    String missing = missingClass(labels, "a bootstrap interval of " + metric);
    if (missing != null) {
      throw new UndefinedMetricException(missing);
    }
    int n = labels.length;
    Sorted sa = Sorted.of(labels, a);
    Sorted sb = Sorted.of(labels, b);
    double estimate = sa.rank(metric, null) - sb.rank(metric, null);
    SplittableRandom random = new SplittableRandom(seed);
    int[] counts = new int[n];
    double[] diffs = new double[resamples];
    int redrawn = 0;
    for (int r = 0; r < resamples; ) {
      Arrays.fill(counts, 0);
      int pos = 0;
      for (int i = 0; i < n; i++) {
        int j = random.nextInt(n);
        counts[j]++;
        pos += labels[j];
      }
      if (pos == 0 || pos == n) {
        redrawn++;
        if (redrawn > 100_000) {
          throw new UndefinedMetricException(
              "bootstrap keeps drawing one-class resamples; the minority class is too small (" + n + " images)");
        }
        continue;
      }
      diffs[r++] = sa.rank(metric, counts) - sb.rank(metric, counts);
    }
    Arrays.sort(diffs);
    double alpha = (1 - confidence) / 2;
    return new BootstrapInterval(
        metric.name(), estimate, percentile(diffs, alpha), percentile(diffs, 1 - alpha), confidence, resamples,
        redrawn, seed);
  }

  /** {@link #bootstrapDifference} with 1000 resamples at 95%. */
  public static BootstrapInterval bootstrapDifference(
      RankMetric metric, int[] labels, double[] a, double[] b, long seed) {
    return bootstrapDifference(metric, labels, a, b, DEFAULT_BOOTSTRAP_RESAMPLES, DEFAULT_CONFIDENCE, seed);
  }

  /** The metric with per-image integer weights, as a bootstrap resample uses them (package-private for tests). */
  static double rankWeighted(RankMetric metric, int[] labels, double[] scores, int[] counts) {
    check(labels, scores);
    return Sorted.of(labels, scores).rank(metric, counts);
  }

  /** numpy.percentile's default 'linear' method on sorted values, q in [0,1]. */
  static double percentile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    double frac = pos - lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
  }

  // ---------------------------------------------------------------- internals

  static void check(int[] labels, double[] scores) {
    if (labels.length != scores.length) {
      throw new IllegalArgumentException(
          "labels and scores differ in length: " + labels.length + " vs " + scores.length);
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] != 0 && labels[i] != 1) {
        throw new IllegalArgumentException("label " + i + " is " + labels[i] + ", expected 0 (real) or 1 (AI)");
      }
      if (!Double.isFinite(scores[i])) {
        throw new IllegalArgumentException("score " + i + " is " + scores[i] + "; record failed images as errors");
      }
    }
  }

  private static String missingClass(int[] labels, String what) {
    int pos = 0;
    for (int l : labels) {
      pos += l;
    }
    if (labels.length == 0) {
      return what + " needs both classes: the set has no scored images";
    }
    if (pos == 0) {
      return noClass(1, what);
    }
    if (pos == labels.length) {
      return noClass(0, what);
    }
    return null;
  }

  private static String noClass(int missing, String what) {
    return String.format(
        Locale.ROOT, "%s needs both classes: the set has no %s", what,
        missing == 1 ? "AI images (class 1)" : "real images (class 0)");
  }

  private static void requireBothClasses(int[] labels, String what) {
    String missing = missingClass(labels, what);
    if (missing != null) {
      throw new UndefinedMetricException(missing);
    }
  }

  private static MetricValue rateOfClass(
      int[] labels, double[] scores, double threshold, ThresholdRule rule, int cls, String what) {
    check(labels, scores);
    int total = 0;
    int flagged = 0;
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] == cls) {
        total++;
        if (rule.isAi(scores[i], threshold)) {
          flagged++;
        }
      }
    }
    if (total == 0) {
      return MetricValue.undefined(noClass(cls, what));
    }
    return MetricValue.of((double) flagged / total);
  }

  /** Cumulative counts at each distinct threshold, highest threshold first. */
  private static final class Clf {
    final double[] fps;
    final double[] tps;
    final double[] thresholds;
    final int count;

    Clf(double[] fps, double[] tps, double[] thresholds, int count) {
      this.fps = fps;
      this.tps = tps;
      this.thresholds = thresholds;
      this.count = count;
    }
  }

  /** Scores sorted once, highest first; resampling only changes the per-image weights. */
  private static final class Sorted {
    final double[] scores;
    final int[] labels;
    final int[] original;

    private Sorted(double[] scores, int[] labels, int[] original) {
      this.scores = scores;
      this.labels = labels;
      this.original = original;
    }

    static Sorted of(int[] labels, double[] scores) {
      int n = labels.length;
      Integer[] idx = new Integer[n];
      for (int i = 0; i < n; i++) {
        idx[i] = i;
      }
      Arrays.sort(idx, (p, q) -> Double.compare(scores[q], scores[p]));
      double[] s = new double[n];
      int[] y = new int[n];
      int[] o = new int[n];
      for (int i = 0; i < n; i++) {
        s[i] = scores[idx[i]];
        y[i] = labels[idx[i]];
        o[i] = idx[i];
      }
      return new Sorted(s, y, o);
    }

    /** Weights indexed by original image (bootstrap counts), or null for one each. */
    Clf clf(int[] weights) {
      int n = scores.length;
      double[] fps = new double[n];
      double[] tps = new double[n];
      double[] thr = new double[n];
      int m = 0;
      double tp = 0;
      double fp = 0;
      double group = 0;
      for (int i = 0; i < n; i++) {
        int w = weights == null ? 1 : weights[original[i]];
        tp += w * labels[i];
        fp += w * (1 - labels[i]);
        group += w;
        // -0.0 == 0.0 here, as torch's (preds[1:] - preds[:-1]) != 0 treats them.
        boolean lastOfGroup = i == n - 1 || scores[i] != scores[i + 1];
        if (lastOfGroup) {
          if (group > 0) {
            fps[m] = fp;
            tps[m] = tp;
            thr[m] = scores[i];
            m++;
          }
          group = 0;
        }
      }
      return new Clf(fps, tps, thr, m);
    }

    double rank(RankMetric metric, int[] weights) {
      Clf c = clf(weights);
      double fTotal = c.fps[c.count - 1];
      double tTotal = c.tps[c.count - 1];
      double area = 0;
      if (metric == RankMetric.AUC) {
        double px = 0;
        double py = 0;
        for (int i = 0; i < c.count; i++) {
          double x = c.fps[i] / fTotal;
          double y = c.tps[i] / tTotal;
          area += (x - px) * (y + py) / 2;
          px = x;
          py = y;
        }
      } else {
        double prevRecall = 0;
        for (int i = 0; i < c.count; i++) {
          double recall = c.tps[i] / tTotal;
          double precision = c.tps[i] / (c.tps[i] + c.fps[i]);
          area += (recall - prevRecall) * precision;
          prevRecall = recall;
        }
      }
      return area;
    }
  }
}
