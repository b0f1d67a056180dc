package io.semspai.trainer;

import io.semspai.avro.FeatureVector;
import io.semspai.topics.Topic;
import io.semspai.topics.TopicTail;
import io.semspai.topics.Topics;
import io.semspai.topics.TopicPublisher;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Frozen backbone features, durable in two compacted topics and held here in memory for one backbone: an image's
 * own in the features topic (key {@code sha256:backbone}, what detectors publish) and its derivative copies' in the
 * derivative-features topic (key {@code sha256:backbone|variant}, computed by the trainer for augmentation and the
 * perturbed holdout). Rebuilt from both on start, so a restart recomputes nothing; features the trainer computes
 * itself are published there first. Memory: (D + S) floats per image or copy, about 17 KB for the full model.
 */
public final class FeatureStore implements AutoCloseable {
  /** One image's features. */
  public record Features(float[] spectral, float[] semantic) {}

  private final Topic<String, FeatureVector> images;
  private final Topic<String, FeatureVector> derivatives;
  private final String backbone;
  private final TopicTail<FeatureVector> imageTail;
  private final TopicTail<FeatureVector> derivativeTail;
  private final KafkaProducer<String, FeatureVector> producer;
  private final Map<Key, Features> byKey = new HashMap<>();

  /** An image ({@code variant} null) or one of its derivative copies. */
  private record Key(String sha256, String variant) {}

  /**
   * @param images the features topic: an image's own features, as detectors publish them
   * @param derivatives the derivative-features topic: copies' features, which only the trainer writes
   */
  public FeatureStore(String bootstrap, Topic<String, FeatureVector> images, Topic<String, FeatureVector> derivatives,
      String backbone) {
    this.images = images;
    this.derivatives = derivatives;
    this.backbone = backbone;
    this.imageTail = new TopicTail<>(bootstrap, images);
    this.derivativeTail = new TopicTail<>(bootstrap, derivatives);
    this.producer = new KafkaProducer<>(TopicPublisher.producerConfig(bootstrap), images.keySerde().serializer(),
        images.valueSerde().serializer());
  }

  /** Reads what was published since the last call (the detector publishes features of every OK image). */
  public int catchUp() {
    return imageTail.catchUp(r -> keep(r.value(), false)) + derivativeTail.catchUp(r -> keep(r.value(), true));
  }

  private void keep(FeatureVector v, boolean derivativeTopic) {
    if (v == null || !backbone.equals(v.getBackboneSha256())) {
      return;
    }
    // A record counts only where it belongs: image features without a variant, copies with one in their own
    // topic. A copy's features never stand in for the image's own.
    if (derivativeTopic != (v.getVariant() != null)) {
      return;
    }
    byKey.put(new Key(v.getSha256(), v.getVariant()), new Features(floats(v.getSpectral()), floats(v.getSemantic())));
  }

  /** An image's own features. */
  public Optional<Features> get(String sha256) {
    return get(sha256, null);
  }

  /** An image's features ({@code variant} null) or a derivative copy's. */
  public Optional<Features> get(String sha256, String variant) {
    return Optional.ofNullable(byKey.get(new Key(sha256, variant)));
  }

  /** Stores features computed by the trainer, durably first; {@code variant} null for the image itself. */
  public void put(String sha256, String variant, Features f, String modelVersion, String inputPolicy) {
    FeatureVector v = FeatureVector.newBuilder().setSha256(sha256).setBackboneSha256(backbone).setVariant(variant)
        .setSpectral(list(f.spectral())).setSemantic(list(f.semantic())).setSpaiInputPolicy(inputPolicy)
        .setModelVersion(modelVersion).setCreatedAt(Instant.now()).build();
    try {
      String topic = variant == null ? images.name() : derivatives.name();
      producer.send(new ProducerRecord<>(topic, Topics.featureKey(sha256, backbone, variant), v)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot store features of " + sha256 + (variant == null ? "" : " (" + variant
          + ")") + ": " + e.getCause(), e);
    }
    byKey.put(new Key(sha256, variant), f);
  }

  /** Images and derivative copies held. */
  public int size() {
    return byKey.size();
  }

  private static float[] floats(List<Float> l) {
    float[] a = new float[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }

  private static List<Float> list(float[] a) {
    List<Float> l = new ArrayList<>(a == null ? 0 : a.length);
    if (a != null) {
      for (float x : a) {
        l.add(x);
      }
    }
    return l;
  }

  @Override
  public void close() {
    imageTail.close();
    derivativeTail.close();
    producer.close();
  }
}
