package io.semspai.stream;

import io.semspai.avro.FailureStage;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A deterministic stand-in for the intake + engine pipeline with a chosen latency: it exercises the detector's
 * exactly-once machinery (parking, punctuation, restarts) without model weights. Events whose URI contains
 * "broken" fail with HTTP_4XX, like an unfetchable image.
 */
final class DelayScorer implements EventScorer {
  private final long delayMs;

  DelayScorer(long delayMs) {
    this.delayMs = delayMs;
  }

  @Override
  public CompletableFuture<ScoreOutcome> score(ImageEvent event) {
    Executor later = CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS);
    return CompletableFuture.supplyAsync(() -> outcome(event), later);
  }

  static ScoreOutcome outcome(ImageEvent event) {
    if (event.getImage() instanceof ImageReference r && r.getUri().contains("broken")) {
      return new ScoreOutcome.Failed(FailureStage.FETCH, "HTTP_4XX", r.getUri() + " answered 404", null, "test-1");
    }
    double score = (Math.floorMod(event.getEventId().hashCode(), 1000)) / 1000.0;
    return ManualScorer.detected(event.getEventId(), score);
  }
}
