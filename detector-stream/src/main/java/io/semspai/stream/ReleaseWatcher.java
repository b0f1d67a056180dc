package io.semspai.stream;

import io.semspai.avro.ModelRelease;
import io.semspai.bundle.ModelBundle;
import io.semspai.release.ReleaseHistory;
import io.semspai.topics.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the model-releases topic and keeps the detector on the newest PROMOTED release not later ROLLED_BACK.
 * On start it replays the (single-partition, ordered) topic to decide which release to resume on; afterwards each
 * release event recomputes the target. A release that cannot be fetched, verified or loaded is refused and logged,
 * and the model serving now keeps serving.
 */
final class ReleaseWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReleaseWatcher.class);

  /** Puts a verified, unpacked release into service (between batches). */
  interface Swapper {
    void swap(ModelRelease release, ModelBundle bundle) throws Exception;

    String currentVersion();
  }

  private final KafkaConsumer<String, ModelRelease> consumer;
  private final Topic<String, ModelRelease> topic;
  private final ModelStore store;
  private final Swapper swapper;
  private final DetectorMetrics metrics;
  private final ReleaseHistory history;
  private final Set<String> refused = new LinkedHashSet<>();
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean running = true;

  ReleaseWatcher(String bootstrap, Topic<String, ModelRelease> topic, String modelName, ModelStore store,
      Swapper swapper, DetectorMetrics metrics) {
    this.topic = topic;
    this.history = new ReleaseHistory(modelName);
    this.store = store;
    this.swapper = swapper;
    this.metrics = metrics;
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "release-watcher-" + UUID.randomUUID()); // offsets are never committed
    cfg.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    this.consumer = new KafkaConsumer<>(cfg, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
    this.thread = new Thread(this::run, "release-watcher");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Waits until the topic has been replayed to its end and the resume decision applied. */
  boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void run() {
    TopicPartition tp = new TopicPartition(topic.name(), 0);
    try {
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      while (running) {
        List<ConsumerRecord<String, ModelRelease>> batch = new ArrayList<>();
        consumer.poll(Duration.ofMillis(500)).forEach(batch::add);
        for (ConsumerRecord<String, ModelRelease> r : batch) {
          record(r.value());
        }
        boolean replaying = caughtUp.getCount() > 0;
        if (replaying && consumer.position(tp) < end) {
          continue; // decide only once the whole history is known
        }
        applyTarget();
        caughtUp.countDown();
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("release watcher stopped: {}", e.toString(), e);
    } finally {
      caughtUp.countDown();
      consumer.close();
    }
  }

  private void record(ModelRelease r) {
    history.record(r);
  }

  private void applyTarget() {
    ModelRelease r = history.target(refused).orElse(null);
    if (r == null || r.getVersion().equals(swapper.currentVersion())) {
      return;
    }
    String target = r.getVersion();
    try {
      ModelBundle bundle = store.fetch(r.getArtifactUri(), r.getArtifactSha256(), r.getVersion());
      swapper.swap(r, bundle);
      metrics.modelVersion(r.getVersion());
      log.info("now serving model {} (release {})", r.getVersion(), r.getArtifactUri());
    } catch (Exception e) {
      refused.add(target);
      metrics.releaseRefused(reason(e));
      log.error("release {} refused, model {} keeps serving: {}", target, swapper.currentVersion(), e.getMessage());
    }
  }

  private static String reason(Exception e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("sha256") ? "checksum" : m.contains("backbone") ? "backbone_mismatch" : "load_failed";
  }

  /** Versions refused so far (for status and tests). */
  Set<String> refused() {
    return Set.copyOf(refused);
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
