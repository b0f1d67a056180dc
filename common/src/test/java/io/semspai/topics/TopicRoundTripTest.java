package io.semspai.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.avro.ImageEvent;
import io.semspai.registry.ConfluentWireFormat;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.registry.SchemaRegistryClient.Compatibility;
import io.semspai.registry.Subjects;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.SampleRecords;
import io.semspai.testing.TestRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every schema through a real broker and the real registry, with the bytes on the topic checked. */
class TopicRoundTripTest {
  private static final EmbeddedKafka kafka = EmbeddedKafka.shared();
  private static final SchemaRegistryClient registry = TestRegistry.shared().client();
  private static Topics topics;
  private static Admin admin;

  @BeforeAll
  static void setUp() throws Exception {
    topics = new Topics("rt" + UUID.randomUUID().toString().substring(0, 8) + ".", registry);
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    assertEquals(7, TopicSetup.createMissing(admin, topics.all()).size());
    assertEquals(0, TopicSetup.createMissing(admin, topics.all()).size(), "creating again is a no-op");
    TopicSetup.registerSchemas(registry, topics.all());
  }

  @AfterAll
  static void tearDown() {
    admin.close();
  }

  @Test
  void everySchemaRoundTripsWithConfluentFraming() throws Exception {
    String id = "evt-1";
    roundTrip(topics.imageEvents(), id, SampleRecords.imageEventByUri(id));
    roundTrip(topics.imageEvents(), "evt-2", SampleRecords.imageEventInline("evt-2", new byte[] {1, 2, 3, 4}));
    roundTrip(topics.verdicts(), id, SampleRecords.verdict(id));
    roundTrip(topics.deadLetters(), id, SampleRecords.deadLetter(id));
    roundTrip(topics.feedback(), "ab".repeat(32), SampleRecords.feedback("ab".repeat(32)));
    roundTrip(topics.features(), Topics.featureKey("ab".repeat(32), "01".repeat(32)),
        SampleRecords.features("ab".repeat(32)));
    roundTrip(topics.modelReleases(), "semspai", SampleRecords.release("1.0.0"));
  }

  @Test
  void subjectsCarryTheirTopicRule() {
    assertEquals(Compatibility.BACKWARD,
        registry.compatibility(Subjects.forTopic(topics.imageEvents().name(), false)));
    assertEquals(Compatibility.FULL, registry.compatibility(Subjects.forTopic(topics.verdicts().name(), false)));
    assertEquals(Compatibility.FULL, registry.compatibility(Subjects.forTopic(topics.modelReleases().name(), false)));
  }

  @Test
  void topicsAreCreatedWithTheirCaps() throws Exception {
    var res = new ConfigResource(ConfigResource.Type.TOPIC, topics.imageEvents().name());
    Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
    assertEquals(Integer.toString(topics.imageEvents().maxMessageBytes() + 4096),
        cfg.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
    assertEquals(Long.toString(Duration.ofDays(7).toMillis()), cfg.get(TopicConfig.RETENTION_MS_CONFIG).value());
    for (Topic<String, ?> compacted : List.of(topics.features(), topics.derivativeFeatures())) {
      var feat = new ConfigResource(ConfigResource.Type.TOPIC, compacted.name());
      assertEquals("compact", admin.describeConfigs(List.of(feat)).all().get().get(feat)
          .get(TopicConfig.CLEANUP_POLICY_CONFIG).value(), compacted.name());
    }
    assertEquals(1, admin.describeTopics(List.of(topics.modelReleases().name())).allTopicNames().get()
        .get(topics.modelReleases().name()).partitions().size(), "releases stay ordered on one partition");
  }

  /** A producer that is not ours: plain Avro binary of an OLDER writer schema, framed by hand. */
  @Test
  void readsHandFramedRecordFromAnOlderWriterSchema() throws Exception {
    Schema current = SpecificData.get().getSchema(ImageEvent.class);
    // The same record without the optional 'attributes' map: what an older producer would write.
    Schema older = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false,
        current.getFields().stream().filter(f -> !f.name().equals("attributes"))
            .map(f -> new Schema.Field(f, f.schema())).toList());
    assertEquals(current.getFields().size() - 1, older.getFields().size());
    int writerId = registry.register(Subjects.forTopic(topics.imageEvents().name(), false), older);

    GenericRecord ref = new GenericData.Record(older.getField("image").schema().getTypes().get(0));
    ref.put("uri", "https://cdn.example.org/a.png");
    GenericRecord rec = new GenericData.Record(older);
    rec.put("eventId", "hand-1");
    rec.put("image", ref);
    rec.put("sourcePlatform", "other-team");
    rec.put("ingestedAt", SampleRecords.T0.toEpochMilli());
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(body, null);
    new GenericDatumWriter<GenericRecord>(older).write(rec, enc);
    enc.flush();
    byte[] framed = ConfluentWireFormat.frame(writerId, body.toByteArray());

    sendRaw(topics.imageEvents().name(), "hand-1", framed);
    ImageEvent read = topics.imageEvents().valueSerde().deserializer()
        .deserialize(topics.imageEvents().name(), readRaw(topics.imageEvents().name(), "hand-1").value());
    assertEquals("hand-1", read.getEventId());
    assertEquals("other-team", read.getSourcePlatform());
    assertEquals(Map.of(), read.getAttributes(), "the reader's default fills the field the writer lacked");
  }

  @Test
  void oversizeRecordIsRefusedBeforeSending() throws Exception {
    String topic = topics.imageEvents().name();
    byte[] big = new byte[topics.inlineImageCap() + (128 << 10)];
    try (KafkaProducer<String, ImageEvent> p = producer(topics.imageEvents())) {
      // Kafka hands serializer ApiExceptions back through the send future.
      var e = assertThrows(ExecutionException.class,
          () -> p.send(new ProducerRecord<>(topic, "big-1", SampleRecords.imageEventInline("big-1", big))).get());
      assertTrue(e.getCause() instanceof RecordTooLargeException, String.valueOf(e.getCause()));
      assertTrue(e.getCause().getMessage().contains("over the topic's cap"), e.getCause().getMessage());
    }
    assertTrue(readAll(topic).stream().noneMatch(r -> "big-1".equals(r.key())), "nothing half-written");
  }

  @Test
  void garbageFailsWithAPreciseReason() {
    var deser = topics.verdicts().valueSerde().deserializer();
    String t = topics.verdicts().name();
    var magic = assertThrows(SerializationException.class, () -> deser.deserialize(t, "{\"json\":1}".getBytes()));
    assertTrue(magic.getMessage().contains("wrong magic byte"), magic.getMessage());
    var unknown = assertThrows(SerializationException.class,
        () -> deser.deserialize(t, ConfluentWireFormat.frame(999_999, new byte[] {2, 'a'})));
    assertTrue(unknown.getMessage().contains("schema id 999999 is unknown"), unknown.getMessage());
    byte[] good = topics.verdicts().valueSerde().serializer().serialize(t, SampleRecords.verdict("v"));
    byte[] cut = java.util.Arrays.copyOf(good, good.length - 10);
    var trunc = assertThrows(SerializationException.class, () -> deser.deserialize(t, cut));
    assertTrue(trunc.getMessage().contains("truncated payload"), trunc.getMessage());
  }

  private static <V extends SpecificRecord> void roundTrip(Topic<String, V> topic, String key, V value)
      throws Exception {
    try (KafkaProducer<String, V> p = producer(topic)) {
      p.send(new ProducerRecord<>(topic.name(), key, value)).get();
    }
    ConsumerRecord<byte[], byte[]> raw = readRaw(topic.name(), key);
    byte[] bytes = raw.value();
    assertEquals(0, bytes[0], "magic byte");
    int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
    assertEquals(registry.lookup(Subjects.forTopic(topic.name(), false),
        SpecificData.get().getSchema(topic.valueType())), id, "the id is the registry's id of the schema");
    assertEquals(SpecificData.get().getSchema(topic.valueType()), TestRegistry.shared().client().schemaById(id));
    assertEquals(value, topic.valueSerde().deserializer().deserialize(topic.name(), bytes));
  }

  private static <V> KafkaProducer<String, V> producer(Topic<String, V> topic) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.ACKS_CONFIG, "all"),
        topic.keySerde().serializer(), topic.valueSerde().serializer());
  }

  private static void sendRaw(String topic, String key, byte[] value) throws ExecutionException, InterruptedException {
    try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        Serdes.String().serializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(topic, key, value)).get();
    }
  }

  private static ConsumerRecord<byte[], byte[]> readRaw(String topic, String key) {
    return readAll(topic).stream().filter(r -> key.equals(r.key())).reduce((a, b) -> b)
        .map(r -> new ConsumerRecord<>(topic, r.partition(), r.offset(), (byte[]) null, r.value()))
        .orElseThrow(() -> new AssertionError("no record with key " + key + " on " + topic));
  }

  private static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "rt-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), Serdes.String().deserializer(),
        new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 10_000;
      int emptyPolls = 0;
      while (System.currentTimeMillis() < deadline && emptyPolls < 3) {
        var recs = c.poll(Duration.ofMillis(500));
        if (recs.isEmpty() && !c.assignment().isEmpty()) {
          emptyPolls++;
        }
        recs.forEach(out::add);
      }
    }
    return out;
  }
}
