package io.semspai.trainer;

import io.semspai.eval.FprCalibration;
import io.semspai.eval.Metrics;
import io.semspai.fusion.ThresholdProfile;
import io.semspai.fusion.ThresholdProfiles;
import java.util.List;
import java.util.Locale;

/**
 * Recalibrates a head's threshold profiles on labelled scores (the trainer uses its validation split: clean images,
 * never the holdout the gate judges on). For a profile with target rate r:
 *
 * <ul>
 *   <li>{@code t_high} from {@link Metrics#thresholdForFpr}(labels, scores, r): at most r of the real images score at
 *       or above it (so are called AI), and as many AI images as possible do; among the thresholds that flag exactly
 *       those AI images, the one midway below the lowest of them, so no false positive is spent that buys nothing;
 *   <li>{@code t_low} is the mirror image on the AI side: at most r of the AI images score below it (so are called
 *       REAL), computed as {@code 1 - t_high(1 - labels, 1 - scores, r)};
 *   <li>when the classes are separated well enough that {@code t_low > t_high}, {@code t_low = t_high}: no UNCERTAIN
 *       band is needed.
 * </ul>
 *
 * {@code balanced} uses r = 5% and {@code strict} r = 1% by default: strict calls an image AI only when at most 1% of
 * real images would be, and REAL only when at most 1% of AI images would be, so it leaves more images UNCERTAIN.
 * With few validation images the rates are coarse (with 20 real images, 5% allows one false positive and 1% none);
 * the profiles' note records the counts and the rates achieved.
 */
public final class ThresholdCalibration {
  public static final double DEFAULT_BALANCED_RATE = 0.05;
  public static final double DEFAULT_STRICT_RATE = 0.01;

  private ThresholdCalibration() {}

  /** Both profiles, marked calibrated, applying to the fused score. */
  public static ThresholdProfiles calibrate(int[] labels, double[] scores, double balancedRate, double strictRate) {
    int ai = 0;
    for (int l : labels) {
      ai += l;
    }
    int real = labels.length - ai;
    if (ai == 0 || real == 0) {
      throw new IllegalArgumentException("recalibration needs real and AI images, got " + real + " real and " + ai
          + " AI");
    }
    Result b = profile(ThresholdProfiles.BALANCED, labels, scores, balancedRate);
    Result s = profile(ThresholdProfiles.STRICT, labels, scores, strictRate);
    String note = String.format(Locale.ROOT, "recalibrated on %d validation images (%d real, %d AI): t_high at real-"
        + "image FPR <= target, t_low at AI miss rate <= target; balanced target %.3f (FPR %.4f, miss %.4f), strict "
        + "target %.3f (FPR %.4f, miss %.4f)", labels.length, real, ai, balancedRate, b.fpr, b.miss, strictRate,
        s.fpr, s.miss);
    return ThresholdProfiles.calibrated(ThresholdProfiles.Score.FUSED, note, List.of(b.profile, s.profile));
  }

  public static ThresholdProfiles calibrate(int[] labels, double[] scores) {
    return calibrate(labels, scores, DEFAULT_BALANCED_RATE, DEFAULT_STRICT_RATE);
  }

  /** One profile with the rates it achieves on the calibration set. */
  public record Result(ThresholdProfile profile, double fpr, double miss) {}

  public static Result profile(String name, int[] labels, double[] scores, double rate) {
    double high = highest(labels, scores, Metrics.thresholdForFpr(labels, scores, rate));
    int[] flipped = new int[labels.length];
    double[] mirrored = new double[scores.length];
    for (int i = 0; i < labels.length; i++) {
      flipped[i] = 1 - labels[i];
      mirrored[i] = 1 - scores[i];
    }
    double low = highest(flipped, mirrored, Metrics.thresholdForFpr(flipped, mirrored, rate));
    double tHigh = clamp(high);
    double tLow = clamp(1 - low);
    if (tLow > tHigh - 1e-9) {
      tLow = tHigh; // the mirrored midpoint can come back an ulp off the same point
    }
    int real = 0;
    int ai = 0;
    int fp = 0;
    int missed = 0;
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] == 0) {
        real++;
        fp += scores[i] >= tHigh ? 1 : 0;
      } else {
        ai++;
        missed += scores[i] < tLow ? 1 : 0;
      }
    }
    return new Result(new ThresholdProfile(name, tLow, tHigh), real == 0 ? Double.NaN : (double) fp / real,
        ai == 0 ? Double.NaN : (double) missed / ai);
  }

  /**
   * {@code thresholdForFpr} flags as many AI images as the target allows, but among thresholds that flag exactly those
   * AI images it may not pick the one flagging the fewest real images: on well-separated scores it spends the allowed
   * false positives for nothing. This moves the threshold up to the midpoint below the lowest AI score it flags,
   * which flags the same AI images and no more real ones.
   */
  static double highest(int[] labels, double[] scores, FprCalibration c) {
    double t = c.threshold();
    double lowestFlaggedAi = Double.POSITIVE_INFINITY;
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] == 1 && scores[i] >= t) {
        lowestFlaggedAi = Math.min(lowestFlaggedAi, scores[i]);
      }
    }
    if (lowestFlaggedAi == Double.POSITIVE_INFINITY) {
      return t;
    }
    double below = Double.NEGATIVE_INFINITY;
    for (double s : scores) {
      if (s < lowestFlaggedAi) {
        below = Math.max(below, s);
      }
    }
    double raised = below == Double.NEGATIVE_INFINITY ? lowestFlaggedAi : below + (lowestFlaggedAi - below) / 2;
    if (!(raised > below)) {
      raised = lowestFlaggedAi;
    }
    return Math.max(t, raised);
  }

  private static double clamp(double t) {
    return Math.max(0, Math.min(1, t));
  }
}
