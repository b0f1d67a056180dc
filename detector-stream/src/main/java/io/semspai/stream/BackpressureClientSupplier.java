package io.semspai.stream;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;

/** Kafka Streams' clients, except that the main consumer stops fetching while {@link Backpressure} says so. */
final class BackpressureClientSupplier implements KafkaClientSupplier {
  private final Backpressure backpressure;

  BackpressureClientSupplier(Backpressure backpressure) {
    this.backpressure = backpressure;
  }

  @Override
  public org.apache.kafka.clients.admin.Admin getAdmin(Map<String, Object> config) {
    return org.apache.kafka.clients.admin.Admin.create(config);
  }

  @Override
  public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
    return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @Override
  public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
    return new PausingConsumer(config, backpressure);
  }

  @Override
  public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @Override
  public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * Keeps two pause sets apart: the partitions Streams itself paused (its per-partition buffers are full) and the
   * ones paused for backpressure. Before every poll the union is applied, so lifting backpressure never resumes a
   * partition Streams wanted paused.
   */
  static final class PausingConsumer extends KafkaConsumer<byte[], byte[]> {
    private final Backpressure backpressure;
    private final Set<TopicPartition> pausedByStreams = new HashSet<>();
    private final Set<TopicPartition> pausedByUs = new HashSet<>();

    PausingConsumer(Map<String, Object> config, Backpressure backpressure) {
      super(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      this.backpressure = backpressure;
    }

    @Override
    public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
      Set<TopicPartition> assigned = assignment();
      pausedByStreams.retainAll(assigned);
      pausedByUs.retainAll(assigned);
      if (backpressure.paused()) {
        Set<TopicPartition> add = new HashSet<>(assigned);
        add.removeAll(pausedByStreams);
        add.removeAll(pausedByUs);
        if (!add.isEmpty()) {
          super.pause(add);
          pausedByUs.addAll(add);
        }
      } else if (!pausedByUs.isEmpty()) {
        Set<TopicPartition> lift = new HashSet<>(pausedByUs);
        lift.removeAll(pausedByStreams);
        super.resume(lift);
        pausedByUs.clear();
      }
      return super.poll(timeout);
    }

    @Override
    public void pause(java.util.Collection<TopicPartition> partitions) {
      pausedByStreams.addAll(partitions);
      super.pause(partitions);
    }

    @Override
    public void resume(java.util.Collection<TopicPartition> partitions) {
      pausedByStreams.removeAll(partitions);
      Set<TopicPartition> lift = new HashSet<>(partitions);
      if (backpressure.paused()) {
        lift.removeAll(pausedByUs); // still held for backpressure
      }
      super.resume(lift);
    }

    @Override
    public Set<TopicPartition> paused() {
      // Streams asks which partitions it paused; it must not see ours, or it would resume them itself.
      Set<TopicPartition> p = new HashSet<>(super.paused());
      p.removeAll(pausedByUs);
      p.addAll(pausedByStreams);
      return p;
    }
  }
}
