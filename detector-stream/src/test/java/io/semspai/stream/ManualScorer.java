package io.semspai.stream;

import io.semspai.avro.FailureStage;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.Label;
import io.semspai.avro.PatchAttention;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A scorer the test completes by hand, to control exactly when each outcome arrives. */
final class ManualScorer implements EventScorer {
  final Map<String, CompletableFuture<ScoreOutcome>> submitted = new ConcurrentHashMap<>();
  final AtomicInteger submissions = new AtomicInteger();

  @Override
  public CompletableFuture<ScoreOutcome> score(ImageEvent event) {
    submissions.incrementAndGet();
    CompletableFuture<ScoreOutcome> f = new CompletableFuture<>();
    submitted.put(event.getEventId(), f);
    return f;
  }

  void detect(String eventId, double score) {
    submitted.get(eventId).complete(detected(eventId, score));
  }

  void fail(String eventId, String reason) {
    submitted.get(eventId).complete(new ScoreOutcome.Failed(FailureStage.FETCH, reason, "cannot fetch " + eventId,
        null, "test-1"));
  }

  static ScoreOutcome.Detected detected(String eventId, double score) {
    return new ScoreOutcome.Detected("aa".repeat(32), 448, 224, score, score >= 0.5 ? Label.AI : Label.REAL,
        "balanced", 0.5, 0.5, score, score, "test-1",
        List.of(new PatchAttention(0, 0, 224, 224, 0.7f), new PatchAttention(224, 0, 224, 224, 0.3f)), false, 1, 2,
        3, 4, new ScoreOutcome.Features("bb".repeat(32), "native", new float[] {1f, 2f}, new float[] {3f}));
  }
}
