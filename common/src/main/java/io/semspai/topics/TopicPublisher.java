package io.semspai.topics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Publishes records to one topic and never loses one silently: every send is remembered, and {@link #flush} waits
 * for all of them and throws, naming the failed keys, if any was not written.
 *
 * <p>The producer is idempotent with {@code acks=all} and <b>one request in flight</b> per connection. With more, a
 * partition created a moment before (as {@code stack up}, the demo and the services' start do) can lose records:
 * the first request is refused because the broker has not applied the partition yet, a second is accepted, and the
 * retried first is then rejected as out of order until {@code delivery.timeout.ms} expires it (KAFKA-15591, also
 * KAFKA-14312 and KAFKA-19880; not fixed in the 4.4 broker). One in flight still batches; order is kept too.
 */
public final class TopicPublisher<K, V> implements AutoCloseable {
  private final String topic;
  private final KafkaProducer<K, V> producer;
  private final List<Future<RecordMetadata>> pending = new ArrayList<>();
  private final List<K> pendingKeys = new ArrayList<>();

  /** A publisher with the topic's own serdes. */
  public static <V> TopicPublisher<String, V> of(String bootstrap, Topic<String, V> topic) {
    return new TopicPublisher<>(bootstrap, topic.name(), topic.keySerde().serializer(),
        topic.valueSerde().serializer());
  }

  /** A publisher with other serializers, e.g. raw bytes for a test of what a bad producer sends. */
  public TopicPublisher(String bootstrap, String topic, Serializer<K> keys, Serializer<V> values) {
    this.topic = topic;
    this.producer = new KafkaProducer<>(producerConfig(bootstrap), keys, values);
  }

  /** Idempotent, {@code acks=all}, one request in flight (see the class comment). */
  public static Map<String, Object> producerConfig(String bootstrap) {
    return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
  }

  public String topic() {
    return topic;
  }

  /** Sends one record; its outcome is checked by the next {@link #flush}. */
  public void send(K key, V value) {
    pending.add(producer.send(new ProducerRecord<>(topic, key, value)));
    pendingKeys.add(key);
  }

  /**
   * Waits until every record sent since the last flush is written.
   *
   * @throws PublishException when any was not, with how many, the first keys and the first cause
   */
  public void flush() {
    producer.flush();
    List<K> failed = new ArrayList<>();
    Throwable first = null;
    try {
      for (int i = 0; i < pending.size(); i++) {
        try {
          pending.get(i).get();
        } catch (ExecutionException e) {
          failed.add(pendingKeys.get(i));
          first = first == null ? e.getCause() : first;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PublishException("interrupted waiting for " + pending.size() + " records to " + topic, e);
    } finally {
      pending.clear();
      pendingKeys.clear();
    }
    if (!failed.isEmpty()) {
      List<K> shown = failed.subList(0, Math.min(5, failed.size()));
      throw new PublishException(failed.size() + " record(s) to " + topic + " were not written (keys " + shown
          + (failed.size() > shown.size() ? " …" : "") + "): " + first, first);
    }
  }

  /** Flushes (throwing if a record was lost), then closes the producer. */
  @Override
  public void close() {
    try {
      flush();
    } finally {
      producer.close();
    }
  }

  /** Records that the broker did not take. */
  public static final class PublishException extends RuntimeException {
    PublishException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
