package io.semspai.engine;

/**
 * The engine's answer for one image.
 *
 * @param sha256 hex sha256 of the image's encoded bytes (the cache key)
 * @param deduplicated true when the answer came from the cache or from an identical image already in flight
 * @param times per-stage milliseconds; model stages are those of the batch the image ran in
 */
public record Detection(String sha256, int width, int height, String modelVersion, ModelOutput output,
    boolean deduplicated, StageTimes times) {
  Detection asDuplicate() {
    return new Detection(sha256, width, height, modelVersion, output, true, new StageTimes());
  }
}
