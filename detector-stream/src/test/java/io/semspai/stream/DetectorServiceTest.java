package io.semspai.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.avro.DeadLetter;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.avro.Verdict;
import io.semspai.avro.VerdictStatus;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.SampleRecords;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topic;
import io.semspai.topics.Topics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The detector against a real broker and the real registry, under exactly-once v2. */
class DetectorServiceTest {
  private static final EmbeddedKafka kafka = EmbeddedKafka.shared();
  private static final SchemaRegistryClient registry = TestRegistry.shared().client();
  @TempDir Path stateDir;

  private static Topics newTopics() {
    return new Topics("d" + UUID.randomUUID().toString().substring(0, 8) + ".", registry);
  }

  private DetectorService service(Topics topics, EventScorer scorer, int maxInFlight) {
    var o = new DetectorService.Options(kafka.bootstrapServers(), "app-" + UUID.randomUUID(), stateDir,
        maxInFlight, 1000, Duration.ofMillis(100), Duration.ofSeconds(5), false, 1,
        Map.of("commit.interval.ms", "100"));
    return new DetectorService(o, topics, registry, scorer, new DetectorMetrics(new SimpleMeterRegistry()),
        () -> "test-1");
  }

  private static void produce(Topics topics, List<ImageEvent> events) throws Exception {
    Topic<String, ImageEvent> t = topics.imageEvents();
    try (var p = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()), t.keySerde().serializer(), t.valueSerde().serializer())) {
      for (ImageEvent e : events) {
        p.send(new ProducerRecord<>(t.name(), e.getEventId(), e));
      }
      p.flush();
    }
  }

  private static ImageEvent event(String id, boolean broken) {
    return ImageEvent.newBuilder(SampleRecords.imageEventByUri(id))
        .setImage(new ImageReference("https://cdn.example.org/" + (broken ? "broken/" : "") + id + ".jpg")).build();
  }

  /** Reads a topic with read_committed until {@code done} holds for what was read, or the timeout passes. */
  private static <V> List<V> readCommitted(Topic<String, V> topic, Predicate<List<V>> done, Duration timeout) {
    List<V> out = new ArrayList<>();
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "check-" + UUID.randomUUID());
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (var c = new KafkaConsumer<>(cfg, topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
      c.subscribe(List.of(topic.name()));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && !done.test(out)) {
        c.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
      }
    }
    return out;
  }

  private static Map<String, Integer> countById(List<Verdict> verdicts) {
    Map<String, Integer> n = new HashMap<>();
    verdicts.forEach(v -> n.merge(v.getEventId(), 1, Integer::sum));
    return n;
  }

  @Test
  void twoHundredEventsTwentyBadGiveTwoHundredVerdictsAndTwentyDeadLetters() throws Exception {
    Topics topics = newTopics();
    List<ImageEvent> events = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      events.add(event("e" + i, i % 10 == 3));
    }
    try (DetectorService s = service(topics, new DelayScorer(5), 16)) {
      s.start();
      produce(topics, events);
      List<Verdict> verdicts = readCommitted(topics.verdicts(), l -> l.size() >= 200, Duration.ofSeconds(90));
      Map<String, Integer> perId = countById(verdicts);
      assertEquals(200, perId.size());
      assertTrue(perId.values().stream().allMatch(n -> n == 1), "one verdict per event");
      assertEquals(180, verdicts.stream().filter(v -> v.getStatus() == VerdictStatus.OK).count());
      List<DeadLetter> dls = readCommitted(topics.deadLetters(), l -> l.size() >= 20, Duration.ofSeconds(30));
      assertEquals(20, dls.size());
      assertTrue(dls.stream().allMatch(d -> d.getReasonCode().equals("HTTP_4XX")));
      assertEquals(0, s.parked());
    }
  }

  @Test
  void aThirtySecondEngineIsNeverFencedAndEachEventGetsOneVerdict() throws Exception {
    Topics topics = newTopics();
    List<KafkaStreams.State> transitions = Collections.synchronizedList(new ArrayList<>());
    try (DetectorService s = service(topics, new DelayScorer(30_000), 4)) {
      s.start();
      long t0 = System.nanoTime();
      while (!s.running() && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30)) {
        Thread.sleep(100);
      }
      AtomicLong notRunning = new AtomicLong();
      Thread watcher = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          if (!s.running()) {
            notRunning.incrementAndGet();
            transitions.add(s.state());
          }
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      watcher.start();
      produce(topics, List.of(event("s1", false), event("s2", false), event("s3", false), event("s4", false)));
      List<Verdict> verdicts = readCommitted(topics.verdicts(), l -> l.size() >= 4, Duration.ofSeconds(120));
      assertEquals(4, verdicts.size());
      watcher.interrupt();
      watcher.join();
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      assertTrue(seconds >= 30, "the engine really took 30 s per image");
      // Read again a while later: a fenced and retried transaction would show up as a second verdict.
      Map<String, Integer> perId = countById(readCommitted(topics.verdicts(), l -> l.size() >= 5,
          Duration.ofSeconds(3)));
      assertEquals(Map.of("s1", 1, "s2", 1, "s3", 1, "s4", 1), perId);
      assertEquals(0, notRunning.get(), "the stream stayed RUNNING (no fencing, no rebalance): " + transitions);
    }
  }

  @Test
  void killedMidBatchThenRestartedGivesExactlyOneVerdictPerEvent() throws Exception {
    Topics topics = newTopics();
    String appId = "kill-" + UUID.randomUUID();
    List<ImageEvent> events = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      events.add(event("k" + i, false));
    }
    // First instance: slow engine, so every event is consumed and parked but none has a verdict yet.
    Process first = startChild(topics, appId, 60_000);
    try {
      waitFor(first, line -> line.startsWith("parked 0 state RUNNING"), 60);
      produce(topics, events);
      waitFor(first, line -> line.startsWith("parked 20 "), 60);
      Thread.sleep(500); // let the commit that holds the parked entries and the input offsets go through
      assertTrue(readCommitted(topics.verdicts(), l -> false, Duration.ofSeconds(1)).isEmpty());
    } finally {
      first.destroyForcibly(); // SIGKILL: after consume, before produce
      first.waitFor(30, TimeUnit.SECONDS);
    }
    // Second instance on the same state folder, with a fast engine: it must resubmit the parked events.
    Process second = startChild(topics, appId, 10);
    try {
      List<Verdict> verdicts = readCommitted(topics.verdicts(), l -> l.size() >= 20, Duration.ofSeconds(120));
      Thread.sleep(2000);
      Map<String, Integer> perId = countById(readCommitted(topics.verdicts(), l -> false, Duration.ofSeconds(3)));
      assertEquals(20, verdicts.size());
      assertEquals(20, perId.size(), "no event lost");
      assertTrue(perId.values().stream().allMatch(n -> n == 1), "no event duplicated: " + perId);
    } finally {
      second.destroyForcibly();
      second.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private Process startChild(Topics topics, String appId, long delayMs) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-cp", System.getProperty("java.class.path"), DetectorTestMain.class.getName(),
        kafka.bootstrapServers(), TestRegistry.shared().url(), topics.prefix(), appId, stateDir.toString(),
        Long.toString(delayMs));
    pb.redirectErrorStream(true);
    return pb.start();
  }

  private static void waitFor(Process p, Predicate<String> line, int seconds) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<String> seen = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      String l = r.readLine();
      if (l == null) {
        break;
      }
      seen.add(l);
      if (line.test(l)) {
        // keep draining the child's output so it never blocks on a full pipe
        Thread drain = new Thread(() -> {
          try {
            while (r.readLine() != null) {
              // discard
            }
          } catch (java.io.IOException ignored) {
            // child gone
          }
        });
        drain.setDaemon(true);
        drain.start();
        return;
      }
    }
    assertFalse(true, "child never printed the expected line; last lines: "
        + seen.subList(Math.max(0, seen.size() - 20), seen.size()));
  }
}
