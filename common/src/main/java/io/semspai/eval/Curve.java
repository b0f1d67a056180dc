package io.semspai.eval;

/**
 * A curve over distinct thresholds, in torchmetrics' order: ROC as (fpr, tpr) starting at (0, 0); PR as (recall,
 * precision) ending at recall 0, precision 1. {@code thresholds} has one entry per point; the ROC's first point
 * carries {@code +Infinity}.
 */
public record Curve(double[] x, double[] y, double[] thresholds) {}
