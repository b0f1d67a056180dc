package io.semspai.eval;

/**
 * What a profile does to a labelled set.
 *
 * <ul>
 *   <li>{@code accuracy}: every image is decided at t_high alone (AI when {@code score >= tHigh}, else REAL), so an
 *       UNCERTAIN image counts as REAL here; this is the number to compare with upstream's accuracy.</li>
 *   <li>{@code uncertainRate}: share of images with {@code tLow <= score < tHigh}, reported beside it.</li>
 *   <li>{@code decidedAccuracy}: accuracy over the images the profile does decide (AI or REAL, UNCERTAIN left
 *       out); undefined when every image is UNCERTAIN.</li>
 *   <li>{@code realFalsePositiveRate}: share of real images with {@code score >= tHigh}; {@code aiTruePositiveRate}
 *       the share of AI images with {@code score >= tHigh}.</li>
 * </ul>
 */
public record ProfileOutcome(
    EvalProfile profile,
    int images,
    int ai,
    int real,
    int uncertain,
    MetricValue accuracy,
    MetricValue uncertainRate,
    MetricValue decidedAccuracy,
    MetricValue realFalsePositiveRate,
    MetricValue aiTruePositiveRate) {}
