package io.semspai.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.testing.EmbeddedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** A record the broker does not take is reported by key at flush, never dropped quietly. */
class TopicPublisherTest {
  private static final EmbeddedKafka kafka = EmbeddedKafka.shared();

  @Test
  void aRecordTheBrokerRefusesFailsTheFlushByKeyAndTheOthersLand() throws Exception {
    String topic = "publisher-" + UUID.randomUUID();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
          .configs(Map.of("max.message.bytes", Integer.toString(64 << 10))))).all().get();
    }
    var p = new TopicPublisher<>(kafka.bootstrapServers(), topic, new StringSerializer(), new ByteArraySerializer());
    // sent at once after the topic was created: the case one request in flight is there for
    for (int i = 0; i < 50; i++) {
      p.send("small-" + i, new byte[100]);
    }
    p.send("too-large", new byte[200 << 10]); // over the topic's max.message.bytes: the broker refuses it
    p.send("small-last", new byte[100]);
    TopicPublisher.PublishException e = assertThrows(TopicPublisher.PublishException.class, p::flush);
    assertTrue(e.getMessage().startsWith("1 record(s) to " + topic + " were not written (keys [too-large])"),
        e.getMessage());
    assertTrue(e.getCause() instanceof RecordTooLargeException, String.valueOf(e.getCause()));
    p.close(); // nothing pending any more: closes quietly

    List<String> keys = new ArrayList<>();
    try (var c = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "check-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (keys.size() < 51 && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> keys.add(r.key()));
      }
    }
    assertEquals(51, keys.size(), "every accepted record landed: " + keys);
    assertEquals("small-0", keys.get(0));
    assertEquals("small-last", keys.get(50), "in order");
  }
}
