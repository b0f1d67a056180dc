package io.semspai.eval;

/** The threshold-free metrics, both with torchmetrics' definitions ({@code thresholds=None}, ties grouped). */
public enum RankMetric {
  /** {@code BinaryAUROC}: trapezoidal area under the ROC over distinct thresholds. */
  AUC,
  /** {@code BinaryAveragePrecision}: {@code sum_n (R_n - R_{n-1}) P_n} over distinct thresholds. */
  AP
}
