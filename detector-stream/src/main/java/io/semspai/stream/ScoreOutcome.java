package io.semspai.stream;

import io.semspai.avro.FailureStage;
import io.semspai.avro.Label;
import io.semspai.avro.PatchAttention;
import java.util.List;

/** What scoring one event produced: a detection, or a failure with its stage and reason code. */
public sealed interface ScoreOutcome {
  /**
   * @param fusedScore null in spectral mode
   * @param features null unless the scorer was asked for them (the features topic is optional)
   */
  record Detected(String sha256, int width, int height, double score, Label label, String profile, double tLow,
      double tHigh, double spectralScore, Double fusedScore, String modelVersion, List<PatchAttention> attention,
      boolean deduplicated, double fetchMs, double decodeMs, double queueMs, double modelMs, Features features)
      implements ScoreOutcome {}

  /** Frozen backbone features of an image, for the trainer. */
  record Features(String backboneSha256, String spaiInputPolicy, float[] spectral, float[] semantic) {}

  /** @param sha256 of the image bytes when they were fetched, else null */
  record Failed(FailureStage stage, String reasonCode, String message, String sha256, String modelVersion)
      implements ScoreOutcome {
    /**
     * Failures that are not the image's fault (the engine was closing or full, the intake was busy or cancelled):
     * the event stays parked and is tried again instead of being dead-lettered.
     */
    public boolean retryLater() {
      return java.util.Set.of("ENGINE_CLOSED", "ENGINE_OVERLOADED", "BUSY", "CANCELLED").contains(reasonCode);
    }
  }
}
