package io.semspai.cli;

import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.avro.LabelerKind;
import io.semspai.avro.Verdict;
import io.semspai.demo.DemoImages;
import io.semspai.eval.Metrics;
import io.semspai.topics.Topic;
import io.semspai.topics.Topics;
import io.semspai.topics.TopicPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * The demo's labeled data and its round trips through the topics: images of the two demo classes published as
 * events, trusted-dataset feedback for them, verdicts read back, and the separation (AUC) of the two classes.
 */
final class DemoLoop {
  private final String bootstrap;
  private final Topics topics;
  private final Path images;

  DemoLoop(String bootstrap, Topics topics, Path images) {
    this.bootstrap = bootstrap;
    this.topics = topics;
    this.images = images;
  }

  /** Writes {@code n} images (even: camera-like, odd: upsampled) and publishes them; returns id → class (1 = AI). */
  Map<String, Integer> publishImages(String tag, int seed0, int n, int size) throws Exception {
    Map<String, Integer> truth = new LinkedHashMap<>();
    Topic<String, ImageEvent> t = topics.imageEvents();
    try (var p = TopicPublisher.of(bootstrap, t)) {
      for (int i = 0; i < n; i++) {
        boolean ai = i % 2 == 1;
        String id = tag + i;
        Path f = images.resolve(id + ".png");
        ImageIO.write(io.semspai.perturb.Pixels.toBufferedImage(DemoImages.generate(ai ? DemoImages.Kind.UPSAMPLED
            : DemoImages.Kind.CAMERA, size, size, seed0 + i)), "png", f.toFile());
        p.send(id, ImageEvent.newBuilder().setEventId(id).setSourcePlatform("demo")
            .setIngestedAt(Instant.now()).setImage(new ImageReference(f.toUri().toString())).build());
        truth.put(id, ai ? 1 : 0);
      }
    }
    return truth;
  }

  /** Trusted-dataset labels for the images behind these verdicts. */
  void publishFeedback(Map<String, Verdict> verdicts, Map<String, Integer> truth) {
    Topic<String, Feedback> t = topics.feedback();
    try (var p = TopicPublisher.of(bootstrap, t)) {
      for (var e : verdicts.entrySet()) {
        if (e.getValue().getSha256() == null) {
          continue; // the image was never fetched (ERROR verdict): there is nothing to label
        }
        Feedback f = Feedback.newBuilder().setSha256(e.getValue().getSha256()).setEventId(e.getKey())
            .setImageUri(images.resolve(e.getKey() + ".png").toUri().toString()).setSourcePlatform("demo")
            .setLabel(truth.get(e.getKey()) == 1 ? FeedbackLabel.AI : FeedbackLabel.REAL).setLabelerId("demo-dataset")
            .setLabelerKind(LabelerKind.TRUSTED_DATASET).setLabeledAt(Instant.now()).build();
        p.send(f.getSha256(), f);
      }
    }
  }

  /** Waits for the verdicts of the events whose ids start with {@code tag}. */
  Map<String, Verdict> verdicts(String tag, int expected, Duration timeout) {
    Map<String, Verdict> out = new HashMap<>();
    for (Verdict v : read(topics.verdicts(), v -> v.getEventId().startsWith(tag), expected, timeout)) {
      out.put(v.getEventId(), v);
    }
    return out;
  }

  <V> List<V> read(Topic<String, V> t, java.util.function.Predicate<V> keep, int atLeast, Duration timeout) {
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-reader-" + UUID.randomUUID());
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<V> out = new ArrayList<>();
    try (var c = new KafkaConsumer<>(cfg, t.keySerde().deserializer(), t.valueSerde().deserializer())) {
      c.subscribe(List.of(t.name()));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < atLeast && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(300)).forEach(r -> {
          if (r.value() != null && keep.test(r.value())) {
            out.add(r.value());
          }
        });
      }
    }
    return out;
  }

  /** AUC of the verdict scores against the classes. */
  static double auc(Map<String, Verdict> verdicts, Map<String, Integer> truth) {
    int[] y = new int[verdicts.size()];
    double[] s = new double[verdicts.size()];
    int i = 0;
    for (var e : verdicts.entrySet()) {
      y[i] = truth.get(e.getKey());
      s[i++] = e.getValue().getScore() == null ? 0.5 : e.getValue().getScore();
    }
    return Metrics.auroc(y, s).orElse(Double.NaN);
  }
}
