package io.semspai.eval;

/**
 * How a score is compared with a threshold. Two conventions meet in this project and both are kept on purpose:
 * upstream's accuracy (torchmetrics {@code BinaryAccuracy}/{@code BinaryConfusionMatrix}) counts a score as AI when
 * it is strictly above the threshold, while a threshold profile says AI when the score is at or above t_high.
 * They differ only for scores exactly equal to the threshold.
 */
public enum ThresholdRule {
  /** AI when {@code score > t}: torchmetrics, hence upstream's "accuracy at 0.5". */
  ABOVE,
  /** AI when {@code score >= t}: the detector's profiles (t_high), FPR, calibration. */
  AT_OR_ABOVE;

  public boolean isAi(double score, double threshold) {
    return this == ABOVE ? score > threshold : score >= threshold;
  }
}
