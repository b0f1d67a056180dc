package io.semspai.stream;

import io.semspai.avro.ImageEvent;
import java.util.concurrent.CompletableFuture;

/**
 * Turns one ImageEvent into an outcome, asynchronously: fetch and decode through the intake, then the batched
 * engine. It runs outside the Streams thread and outside any transaction; the future must always complete
 * (normally with {@link ScoreOutcome.Failed} for a bad image, never by hanging).
 */
public interface EventScorer extends AutoCloseable {
  CompletableFuture<ScoreOutcome> score(ImageEvent event);

  @Override
  default void close() {}
}
