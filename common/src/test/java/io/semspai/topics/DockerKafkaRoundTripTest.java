package io.semspai.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.semspai.avro.Verdict;
import io.semspai.testing.SampleRecords;
import io.semspai.testing.TestRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The same verdict round trip against the official Apache Kafka image, for machines with a Docker engine. Build
 * machines have none, so JUnit skips this class there; the in-JVM broker covers the same path.
 */
@Testcontainers(disabledWithoutDocker = true)
class DockerKafkaRoundTripTest {
  @Container
  static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.0.0");

  @Test
  void verdictRoundTripsThroughAContainerBroker() throws Exception {
    Topics topics = new Topics("docker.", TestRegistry.shared().client());
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA.getBootstrapServers()))) {
      TopicSetup.createMissing(admin, topics.all());
    }
    Verdict v = SampleRecords.verdict("d-1");
    try (var p = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        KAFKA.getBootstrapServers()), topics.verdicts().keySerde().serializer(),
        topics.verdicts().valueSerde().serializer())) {
      p.send(new ProducerRecord<>(topics.verdicts().name(), "d-1", v)).get();
    }
    try (var c = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        KAFKA.getBootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "docker-test",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), topics.verdicts().keySerde().deserializer(),
        topics.verdicts().valueSerde().deserializer())) {
      c.subscribe(List.of(topics.verdicts().name()));
      var recs = c.poll(Duration.ofSeconds(20));
      assertEquals(v, recs.iterator().next().value());
    }
  }
}
