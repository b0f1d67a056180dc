package io.semspai.eval;

/**
 * A threshold chosen so that at most {@code targetFpr} of the real images score at or above it.
 *
 * @param threshold AI when {@code score >= threshold}
 * @param achievedFpr share of real images at or above the threshold (at most the target)
 * @param achievedTpr share of AI images at or above it; undefined when the set has no AI images
 */
public record FprCalibration(
    double targetFpr, double threshold, double achievedFpr, MetricValue achievedTpr, int realImages) {}
