package io.semspai.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.avro.DeadLetter;
import io.semspai.avro.FailureStage;
import io.semspai.avro.FeatureVector;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.InlineImage;
import io.semspai.avro.Label;
import io.semspai.avro.Verdict;
import io.semspai.avro.VerdictStatus;
import io.semspai.testing.SampleRecords;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectionProcessorTest {
  @TempDir Path stateDir;
  private final Topics topics = new Topics("t" + UUID.randomUUID().toString().substring(0, 6) + ".",
      TestRegistry.shared().client(), 64, 32, 1);
  private final ManualScorer scorer = new ManualScorer();
  private Backpressure backpressure;
  private TopologyTestDriver driver;
  private TestInputTopic<String, byte[]> in;
  private TestOutputTopic<String, Verdict> verdicts;
  private TestOutputTopic<String, DeadLetter> deadLetters;
  private TestOutputTopic<String, FeatureVector> features;

  @BeforeEach
  void start() {
    open(3, 100);
  }

  @AfterEach
  void stop() {
    if (driver != null) {
      driver.close();
    }
  }

  private void open(int maxInFlight, int maxParked) {
    backpressure = new Backpressure(maxParked);
    DetectorRuntime rt = new DetectorRuntime(backpressure, maxInFlight, new DetectorMetrics(new SimpleMeterRegistry()),
        () -> "test-1");
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "detector-test");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(DetectorTopology.build(topics, scorer, rt, Duration.ofMillis(100), true), p);
    in = driver.createInputTopic(topics.imageEvents().name(), Serdes.String().serializer(), new ByteArraySerializer());
    verdicts = driver.createOutputTopic(topics.verdicts().name(), Serdes.String().deserializer(),
        topics.verdicts().valueSerde().deserializer());
    deadLetters = driver.createOutputTopic(topics.deadLetters().name(), Serdes.String().deserializer(),
        topics.deadLetters().valueSerde().deserializer());
    features = driver.createOutputTopic(topics.features().name(), Serdes.String().deserializer(),
        topics.features().valueSerde().deserializer());
  }

  private void send(ImageEvent e) {
    in.pipeInput(e.getEventId(), topics.imageEvents().valueSerde().serializer()
        .serialize(topics.imageEvents().name(), e));
  }

  private KeyValueStore<String, Object> store() {
    return driver.getKeyValueStore(DetectionProcessor.STORE);
  }

  private void tick() {
    driver.advanceWallClockTime(Duration.ofMillis(150));
  }

  @Test
  void verdictIsForwardedOnlyOnceTheOutcomeCompletes() {
    send(SampleRecords.imageEventByUri("e1"));
    tick();
    assertTrue(verdicts.isEmpty(), "no verdict before the scorer finishes");
    assertEquals(1, backpressure.parked());
    scorer.detect("e1", 0.9);
    tick();
    Verdict v = verdicts.readValue();
    assertEquals("e1", v.getEventId());
    assertEquals(VerdictStatus.OK, v.getStatus());
    assertEquals(Label.AI, v.getLabel());
    assertEquals(0.9, v.getScore(), 0);
    assertEquals("test-1", v.getModelVersion());
    assertEquals(2, v.getAttention().size());
    assertTrue(verdicts.isEmpty() && deadLetters.isEmpty());
    var fv = features.readKeyValue();
    assertEquals(Topics.featureKey("aa".repeat(32), "bb".repeat(32)), fv.key);
    assertEquals(2, fv.value.getSpectral().size());
    assertEquals(0, backpressure.parked());
    try (var it = store().all()) {
      assertTrue(!it.hasNext(), "the parked entry is deleted with the forward");
    }
  }

  @Test
  void failedOutcomeGivesAnErrorVerdictAndADeadLetter() {
    byte[] image = new byte[100];
    for (int i = 0; i < image.length; i++) {
      image[i] = (byte) i;
    }
    ImageEvent e = SampleRecords.imageEventInline("bad", image);
    send(e);
    scorer.fail("bad", "HTTP_4XX");
    tick();
    Verdict v = verdicts.readValue();
    assertEquals(VerdictStatus.ERROR, v.getStatus());
    assertEquals("HTTP_4XX", v.getError().getReasonCode());
    assertNull(v.getScore());
    DeadLetter dl = deadLetters.readValue();
    assertEquals("bad", dl.getEventId());
    assertEquals(FailureStage.FETCH, dl.getStage());
    assertEquals("HTTP_4XX", dl.getReasonCode());
    byte[] original = topics.imageEvents().valueSerde().serializer().serialize(topics.imageEvents().name(), e);
    assertEquals(original.length, dl.getOriginalLength());
    assertEquals(DetectionProcessor.sha256(original), dl.getOriginalSha256());
    assertTrue(dl.getTruncated(), "the cap is 32 bytes in this test");
    assertEquals(32, dl.getOriginalValue().remaining());
    // The decoded event travels too, its inline bytes cut to the same cap.
    InlineImage kept = (InlineImage) dl.getEvent().getImage();
    assertEquals(32, kept.getData().remaining());
    byte[] first = new byte[32];
    kept.getData().duplicate().get(first);
    assertArrayEquals(java.util.Arrays.copyOf(image, 32), first);
  }

  @Test
  void undecodableRecordsAreDeadLetteredAndProcessingContinues() {
    in.pipeInput("g1", "{\"not\":\"avro\"}".getBytes());
    in.pipeInput("g2", new byte[] {0, 0, 0});
    in.pipeInput("g3", new byte[] {0, 0x7f, 0x7f, 0x7f, 0x7f, 1, 2});
    send(SampleRecords.imageEventByUri("ok"));
    assertEquals("WRONG_MAGIC_BYTE", deadLetters.readValue().getReasonCode());
    assertEquals("TRUNCATED_PAYLOAD", deadLetters.readValue().getReasonCode());
    DeadLetter unknown = deadLetters.readValue();
    assertEquals("UNKNOWN_SCHEMA_ID", unknown.getReasonCode());
    assertEquals(FailureStage.DESERIALIZE, unknown.getStage());
    assertEquals("g3", unknown.getEventId(), "the record key stands in for the unknown event id");
    assertEquals(7, unknown.getOriginalLength());
    scorer.detect("ok", 0.1);
    tick();
    assertEquals(Label.REAL, verdicts.readValue().getLabel());
  }

  @Test
  void inFlightIsCappedAndTheRestWaitsParked() {
    for (int i = 0; i < 5; i++) {
      send(SampleRecords.imageEventByUri("e" + i));
    }
    assertEquals(3, scorer.submissions.get(), "max in-flight is 3");
    assertEquals(5, backpressure.parked());
    scorer.detect("e0", 0.2);
    scorer.detect("e1", 0.2);
    tick();
    assertEquals(2, verdicts.readValuesToList().size());
    assertEquals(5, scorer.submissions.get(), "freed slots take the next parked events");
    assertEquals(3, backpressure.parked());
  }

  @Test
  void inputPausesAtTheHighWatermarkAndResumesAtTheLow() {
    driver.close();
    open(10, 8); // pauses at 8 parked, resumes at 6
    for (int i = 0; i < 8; i++) {
      send(SampleRecords.imageEventByUri("b" + i));
    }
    assertTrue(backpressure.paused());
    assertEquals(1, backpressure.pauseCount());
    scorer.detect("b0", 0.5);
    tick();
    assertTrue(backpressure.paused(), "7 parked: still above the low watermark");
    scorer.detect("b1", 0.5);
    tick();
    assertEquals(6, backpressure.parked());
    assertTrue(!backpressure.paused(), "6 parked: input resumes");
  }
}
