package io.semspai.eval;

/**
 * A paired-bootstrap percentile interval for {@code metric(a) - metric(b)} on the same images.
 *
 * @param estimate the difference on the full data
 * @param lower the (1-confidence)/2 percentile of the resampled differences
 * @param upper the (1+confidence)/2 percentile
 * @param resamples resamples kept (each holds both classes)
 * @param redrawn resamples drawn with one class only, discarded and drawn again
 */
public record BootstrapInterval(
    String metric, double estimate, double lower, double upper, double confidence, int resamples, int redrawn,
    long seed) {}
