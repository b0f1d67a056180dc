package io.semspai.topics;

import io.semspai.avro.DeadLetter;
import io.semspai.avro.FeatureVector;
import io.semspai.avro.Feedback;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ModelRelease;
import io.semspai.avro.Verdict;
import io.semspai.registry.ConfluentAvroSerde;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.registry.SchemaRegistryClient.Compatibility;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Every topic of the project, in one place. Names are {@code prefix + role}; the prefix is configurable so several
 * deployments can share a cluster.
 *
 * <p>Inputs other teams write (image events, feedback) evolve BACKWARD: new readers must read old data. Outputs
 * other teams read (verdicts, model releases, dead letters) evolve FULL: old and new readers both keep working.
 */
public final class Topics {
  public static final String DEFAULT_PREFIX = "semspai.";
  /** Default cap on inline image bytes in an ImageEvent; larger images go by reference. */
  public static final int DEFAULT_INLINE_IMAGE_CAP = 1 << 20;
  /** Default cap on the original bytes a dead letter keeps. */
  public static final int DEFAULT_DEAD_LETTER_CAP = 1 << 20;
  /** Room for everything in a record besides its capped bytes. */
  private static final int ENVELOPE_BYTES = 64 << 10;
  private static final long LONG_RETENTION_MS = -1L; // kept until deleted on purpose

  private final String prefix;
  private final int inlineImageCap;
  private final int deadLetterCap;
  private final Topic<String, ImageEvent> imageEvents;
  private final Topic<String, Verdict> verdicts;
  private final Topic<String, DeadLetter> deadLetters;
  private final Topic<String, Feedback> feedback;
  private final Topic<String, FeatureVector> features;
  private final Topic<String, FeatureVector> derivativeFeatures;
  private final Topic<String, ModelRelease> modelReleases;

  public Topics(String prefix, SchemaRegistryClient registry) {
    this(prefix, registry, DEFAULT_INLINE_IMAGE_CAP, DEFAULT_DEAD_LETTER_CAP, 3);
  }

  public Topics(String prefix, SchemaRegistryClient registry, int inlineImageCap, int deadLetterCap, int partitions) {
    if (!prefix.matches("[A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("topic prefix '" + prefix + "' may hold only letters, digits, '.', '_', '-'");
    }
    if (inlineImageCap <= 0 || deadLetterCap <= 0 || partitions <= 0) {
      throw new IllegalArgumentException("inline image cap, dead-letter cap and partitions must be positive");
    }
    this.prefix = prefix;
    this.inlineImageCap = inlineImageCap;
    this.deadLetterCap = deadLetterCap;
    this.imageEvents = topic("image-events", registry, ImageEvent.class, partitions,
        inlineImageCap + ENVELOPE_BYTES, TopicConfig.CLEANUP_POLICY_DELETE, Duration.ofDays(7).toMillis(),
        Compatibility.BACKWARD);
    this.verdicts = topic("verdicts", registry, Verdict.class, partitions, 1 << 20,
        TopicConfig.CLEANUP_POLICY_DELETE, Duration.ofDays(30).toMillis(), Compatibility.FULL);
    // A dead letter holds the original bytes and the decoded event, each capped.
    this.deadLetters = topic("dead-letters", registry, DeadLetter.class, partitions,
        2 * deadLetterCap + ENVELOPE_BYTES, TopicConfig.CLEANUP_POLICY_DELETE, Duration.ofDays(30).toMillis(),
        Compatibility.FULL);
    this.feedback = topic("feedback", registry, Feedback.class, partitions, ENVELOPE_BYTES,
        TopicConfig.CLEANUP_POLICY_DELETE, LONG_RETENTION_MS, Compatibility.BACKWARD);
    this.features = topic("features", registry, FeatureVector.class, partitions, 256 << 10,
        TopicConfig.CLEANUP_POLICY_COMPACT, LONG_RETENTION_MS, Compatibility.FULL);
    // Derivative copies' features get a topic of their own, so the features topic keeps meaning "an image's own
    // features" for every reader, including trainers that predate augmentation.
    this.derivativeFeatures = topic("derivative-features", registry, FeatureVector.class, partitions, 256 << 10,
        TopicConfig.CLEANUP_POLICY_COMPACT, LONG_RETENTION_MS, Compatibility.FULL);
    // One partition keeps releases in order: a PROMOTED must never overtake the CANDIDATE it follows.
    this.modelReleases = topic("model-releases", registry, ModelRelease.class, 1, 1 << 20,
        TopicConfig.CLEANUP_POLICY_DELETE, LONG_RETENTION_MS, Compatibility.FULL);
  }

  /** The topics a service's config names: {@code topics.prefix}, caps and partitions. */
  public static Topics from(io.semspai.config.Settings s, SchemaRegistryClient registry) {
    return new Topics(s.string("topics.prefix", DEFAULT_PREFIX), registry,
        s.integer("topics.inline-image-cap", DEFAULT_INLINE_IMAGE_CAP, 1024, 64 << 20),
        s.integer("topics.dead-letter-cap", DEFAULT_DEAD_LETTER_CAP, 1, 64 << 20),
        s.integer("topics.partitions", 3, 1, 1000));
  }

  private <V extends SpecificRecord> Topic<String, V> topic(String role, SchemaRegistryClient registry, Class<V> type,
      int partitions, int maxBytes, String cleanup, long retentionMs, Compatibility compat) {
    Map<String, String> cfg = new LinkedHashMap<>();
    cfg.put(TopicConfig.CLEANUP_POLICY_CONFIG, cleanup);
    if (TopicConfig.CLEANUP_POLICY_DELETE.equals(cleanup)) {
      cfg.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs));
    }
    // Kafka's limit counts the record batch overhead too; leave a little room above the value cap.
    cfg.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxBytes + 4096));
    Serde<V> values = registry == null ? null : new ConfluentAvroSerde<>(registry, type, false, maxBytes);
    return new Topic<>(role, prefix + role, Serdes.String(), values, type, partitions, maxBytes, Map.copyOf(cfg),
        compat);
  }

  public String prefix() {
    return prefix;
  }

  public int inlineImageCap() {
    return inlineImageCap;
  }

  public int deadLetterCap() {
    return deadLetterCap;
  }

  public Topic<String, ImageEvent> imageEvents() {
    return imageEvents;
  }

  public Topic<String, Verdict> verdicts() {
    return verdicts;
  }

  public Topic<String, DeadLetter> deadLetters() {
    return deadLetters;
  }

  public Topic<String, Feedback> feedback() {
    return feedback;
  }

  /** Frozen backbone features for the trainer; key {@link #featureKey}. */
  public Topic<String, FeatureVector> features() {
    return features;
  }

  /**
   * Features of derivative copies (JPEG, rescale, blur, crop) the trainer computes for augmentation and the perturbed
   * holdout; key {@link #featureKey(String, String, String)}, {@code FeatureVector.variant} set.
   */
  public Topic<String, FeatureVector> derivativeFeatures() {
    return derivativeFeatures;
  }

  public Topic<String, ModelRelease> modelReleases() {
    return modelReleases;
  }

  public List<Topic<String, ?>> all() {
    return List.of(imageEvents, verdicts, deadLetters, feedback, features, derivativeFeatures, modelReleases);
  }

  /** Key of the features topic: one entry per image and backbone pair, so compaction keeps the latest. */
  public static String featureKey(String sha256, String backboneSha256) {
    return sha256 + ":" + backboneSha256;
  }

  /**
   * Key of a derivative copy's features in {@link #derivativeFeatures()} ({@code variant} names the perturbation, e.g.
   * {@code jpeg=73}): one entry per copy, so compaction keeps every copy. Null: the image's own key.
   */
  public static String featureKey(String sha256, String backboneSha256, String variant) {
    return variant == null ? featureKey(sha256, backboneSha256) : featureKey(sha256, backboneSha256) + "|" + variant;
  }
}
