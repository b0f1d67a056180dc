package io.semspai.trainer;

import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import io.semspai.release.ReleaseHistory;
import io.semspai.topics.Topic;
import io.semspai.topics.TopicTail;
import io.semspai.topics.TopicPublisher;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Reads and writes the model-releases topic: the history (which release is the champion) and new release events.
 * Releases are keyed by model name on a single partition, so their order is the order they were decided in.
 */
public final class ReleaseLog implements AutoCloseable {
  private final String bootstrap;
  private final Topic<String, ModelRelease> topic;
  private final KafkaProducer<String, ModelRelease> producer;

  public ReleaseLog(String bootstrap, Topic<String, ModelRelease> topic) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.producer = new KafkaProducer<>(TopicPublisher.producerConfig(bootstrap), topic.keySerde().serializer(),
        topic.valueSerde().serializer());
  }

  /** Replays the whole topic (it is small: one event per release decision). */
  public ReleaseHistory history(String modelName) {
    ReleaseHistory h = new ReleaseHistory(modelName);
    try (TopicTail<ModelRelease> tail = new TopicTail<>(bootstrap, topic)) {
      tail.catchUp(r -> h.record(r.value()));
    }
    return h;
  }

  /** Publishes one release event and waits until the broker has it. */
  public void publish(ModelRelease r) {
    try {
      producer.send(new ProducerRecord<>(topic.name(), r.getModelName(), r)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted publishing release " + r.getVersion(), e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot publish release " + r.getVersion() + ": " + e.getCause(), e);
    }
  }

  /**
   * Rolls back to {@code version}: ROLLED_BACK for the release serving now, then PROMOTED again for
   * {@code version} (which must have been promoted before). Detectors follow the second event.
   */
  public ModelRelease rollback(String modelName, String version, String why) {
    ReleaseHistory h = history(modelName);
    ModelRelease current = h.target().orElseThrow(() -> new IllegalArgumentException(
        "model " + modelName + " has no PROMOTED release to roll back from"));
    ModelRelease to = h.promotedRelease(version).orElseThrow(() -> new IllegalArgumentException(
        "model " + modelName + " never had version " + version + " PROMOTED; cannot roll back to it"));
    if (current.getVersion().equals(version)) {
      throw new IllegalArgumentException("version " + version + " is already serving");
    }
    publish(ModelRelease.newBuilder(current).setStatus(ReleaseStatus.ROLLED_BACK)
        .setReasons(List.of("rolled back to " + version + (why == null ? "" : ": " + why)))
        .setCreatedAt(Instant.now()).build());
    ModelRelease again = ModelRelease.newBuilder(to).setStatus(ReleaseStatus.PROMOTED)
        .setReasons(List.of("promoted again by rollback from " + current.getVersion()))
        .setCreatedAt(Instant.now()).build();
    publish(again);
    return again;
  }

  @Override
  public void close() {
    producer.close();
  }
}
