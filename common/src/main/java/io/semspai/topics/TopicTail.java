package io.semspai.topics;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a whole topic from its beginning and then follows it, without a consumer group's committed offsets: for
 * state that is rebuilt from a topic on every start (labels from feedback, features from the compacted features
 * topic, release history). Not thread-safe; one owner thread.
 */
public final class TopicTail<V> implements AutoCloseable {
  private final KafkaConsumer<String, V> consumer;
  private final List<TopicPartition> partitions;

  public TopicTail(String bootstrap, Topic<String, V> topic) {
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "tail-" + topic.role() + "-" + UUID.randomUUID());
    cfg.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    cfg.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Math.max(1 << 20, topic.maxMessageBytes() + 8192));
    this.consumer = new KafkaConsumer<>(cfg, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
    this.partitions = consumer.partitionsFor(topic.name()).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
  }

  /** Hands every record up to the topic's current end to {@code sink}; returns how many there were. */
  public int catchUp(Consumer<ConsumerRecord<String, V>> sink) {
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    int n = 0;
    while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
      for (ConsumerRecord<String, V> r : consumer.poll(Duration.ofMillis(200))) {
        sink.accept(r);
        n++;
      }
    }
    return n;
  }

  @Override
  public void close() {
    consumer.close();
  }
}
