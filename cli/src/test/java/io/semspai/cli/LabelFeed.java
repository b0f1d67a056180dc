package io.semspai.cli;

import io.semspai.avro.FeatureVector;
import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.LabelerKind;
import io.semspai.avro.ModelRelease;
import io.semspai.bundle.ModelBundle;
import io.semspai.engine.ServingModels;
import io.semspai.topics.Topic;
import io.semspai.topics.TopicPublisher;
import io.semspai.topics.TopicSetup;
import io.semspai.topics.Topics;
import io.semspai.testing.TestRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** Labels and features written straight to the topics, the way moderators and detectors would, for trainer tests. */
final class LabelFeed implements AutoCloseable {
  private static final Pattern TRAINED_ON = Pattern.compile("trained on (\\d+) images \\+ (\\d+) derivative copies, "
      + "holdout (\\d+) \\+ (\\d+) perturbed");
  private final String bootstrap;
  private final Topics topics;
  private final TopicPublisher<String, Feedback> feedback;
  private final TopicPublisher<String, FeatureVector> features;

  /** Creates the topics first (as a service's start does), so labels can precede any service. */
  LabelFeed(String bootstrap, Topics topics) throws Exception {
    this.bootstrap = bootstrap;
    this.topics = topics;
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      TopicSetup.createMissing(admin, topics.all());
    }
    // TopicPublisher keeps one request in flight: these topics were created a moment ago (KAFKA-15591).
    this.feedback = TopicPublisher.of(bootstrap, topics.feedback());
    this.features = TopicPublisher.of(bootstrap, topics.features());
  }

  /**
   * A trainer's settings on the in-JVM broker and the shared registry: its own topic prefix (one partition each), the
   * base bundle, the release store, and N out of reach so only the test (or the timer) retrains.
   */
  static Map<String, String> trainerSettings(String bootstrap, String prefix, Path bundle, Path store) {
    Map<String, String> cfg = new LinkedHashMap<>();
    cfg.put("kafka.bootstrap.servers", bootstrap);
    cfg.put("schema.registry.url", TestRegistry.shared().url());
    cfg.put("topics.prefix", prefix);
    cfg.put("topics.partitions", "1");
    cfg.put("model.bundle", bundle.toString());
    cfg.put("model.store", store.toString());
    cfg.put("trainer.retrain-after", "1000000");
    return cfg;
  }

  /** A made-up sha256 for image number {@code i}: images 0 mod 5 fall in the holdout bucket. */
  static String sha(long i) {
    return String.format("%064x", i);
  }

  /** One label (sent on {@link #flush}); {@code imageUri} may be null (then the trainer cannot fetch the image). */
  void label(String sha256, boolean ai, LabelerKind kind, String labeler, String imageUri) {
    feedback.send(sha256, Feedback.newBuilder().setSha256(sha256)
        .setLabel(ai ? FeedbackLabel.AI : FeedbackLabel.REAL).setLabelerId(labeler).setLabelerKind(kind)
        .setImageUri(imageUri).setSourcePlatform("demo").setLabeledAt(Instant.now()).build());
  }

  /**
   * Detector-like features (sent on {@link #flush}) of an image of a class: Gaussian noise, shifted by +-0.5 on the
   * first quarter of each vector, so the two classes are separable but not trivially.
   */
  void features(String sha256, boolean ai, String backbone, int spectralDim, int semanticDim, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    FeatureVector v = FeatureVector.newBuilder().setSha256(sha256).setBackboneSha256(backbone)
        .setSpectral(vector(r, spectralDim, ai)).setSemantic(vector(r, semanticDim, ai)).setModelVersion("1.0.0")
        .setCreatedAt(Instant.now()).build();
    features.send(Topics.featureKey(sha256, backbone), v);
  }

  /** The backbone a trainer keys features by, and the feature widths, of a fusion bundle. */
  record Backbone(String sha256, int spectralDim, int semanticDim) {
    static Backbone of(Path bundle) throws Exception {
      ServingModels.Serving serving = ServingModels.open(ModelBundle.open(bundle));
      try {
        return new Backbone(serving.backboneSha256(), serving.model().headConfig().spectralDim(),
            serving.model().headConfig().semanticDim());
      } finally {
        serving.model().close();
      }
    }
  }

  /**
   * Images {@code from .. from+n-1} (by {@link #sha}), flushed: detector-like features first, then a trusted label
   * (AI when odd).
   */
  void trusted(int from, int n, Backbone b) {
    for (int i = from; i < from + n; i++) {
      features(sha(i), i % 2 == 1, b.sha256(), b.spectralDim(), b.semanticDim(), i);
    }
    flush();
    for (int i = from; i < from + n; i++) {
      label(sha(i), i % 2 == 1, LabelerKind.TRUSTED_DATASET, "dataset", null);
    }
    flush();
  }

  /** Waits until everything sent so far is on the topics; throws if any record was not written. */
  void flush() {
    features.flush();
    feedback.flush();
  }

  private static List<Float> vector(SplittableRandom r, int n, boolean ai) {
    List<Float> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      double g = r.nextGaussian();
      out.add((float) (i < n / 4 ? g + (ai ? 0.5 : -0.5) : g));
    }
    return out;
  }

  /** Everything on the releases topic now, in order. */
  List<ModelRelease> releases() {
    return readAll(topics.modelReleases());
  }

  /** Everything on a topic now, in order per partition. */
  <V> List<V> readAll(Topic<String, V> t) {
    Map<String, Object> cfg = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "feed-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
        "earliest");
    List<V> out = new ArrayList<>();
    try (var c = new KafkaConsumer<>(cfg, t.keySerde().deserializer(), t.valueSerde().deserializer())) {
      List<TopicPartition> parts = c.partitionsFor(t.name()).stream()
          .map(p -> new TopicPartition(t.name(), p.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (parts.stream().anyMatch(p -> c.position(p) < end.get(p)) && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
      }
    }
    return out;
  }

  /** Images a CANDIDATE was trained and judged on: training plus holdout, from its first reason. */
  static int saw(ModelRelease candidate) {
    Matcher m = TRAINED_ON.matcher(candidate.getReasons().get(0));
    if (!m.find()) {
      throw new AssertionError("not a CANDIDATE's first reason: " + candidate.getReasons());
    }
    return Integer.parseInt(m.group(1)) + Integer.parseInt(m.group(3));
  }

  @Override
  public void close() {
    feedback.close();
    features.close();
  }
}
