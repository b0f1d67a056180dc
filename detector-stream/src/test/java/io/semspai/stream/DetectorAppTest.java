package io.semspai.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.avro.InlineImage;
import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import io.semspai.avro.Verdict;
import io.semspai.avro.VerdictStatus;
import io.semspai.bundle.BundleArchive;
import io.semspai.config.Settings;
import io.semspai.demo.DemoImages;
import io.semspai.image.RgbImage;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topic;
import io.semspai.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole detector (real intake, real tiny SPAI, real engine) on the in-JVM broker and the real registry. */
class DetectorAppTest {
  private static final EmbeddedKafka kafka = EmbeddedKafka.shared();
  @TempDir static Path dir;
  private static Path bundleV1;
  private static Path bundleV2;

  @BeforeAll
  static void bundles() throws Exception {
    bundleV1 = SemSpaiBundles.writeRandom(dir.resolve("v1"), SemSpaiBundles.Preset.named("tiny"), 1, "semspai",
        "1.0.0", "native");
    bundleV2 = SemSpaiBundles.writeRandom(dir.resolve("v2"), SemSpaiBundles.Preset.named("tiny"), 2, "semspai",
        "2.0.0", "native");
  }

  private static Map<String, String> settings(String prefix, Path state) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    m.put("schema.registry.url", TestRegistry.shared().url());
    m.put("topics.prefix", prefix);
    m.put("topics.partitions", "1");
    m.put("model.bundle", bundleV1.toString());
    m.put("model.store", dir.resolve("store").toString());
    m.put("detector.state-dir", state.toString());
    m.put("detector.application-id", "app-" + prefix);
    m.put("intake.file-roots", dir.toString());
    m.put("http.port", "0");
    m.put("streams.commit.interval.ms", "100");
    return m;
  }

  static byte[] png(RgbImage im) {
    return io.semspai.perturb.Pixels.png(im);
  }

  private static ImageEvent inline(String id, byte[] bytes) {
    return ImageEvent.newBuilder().setEventId(id).setSourcePlatform("test").setIngestedAt(Instant.now())
        .setImage(new InlineImage(ByteBuffer.wrap(bytes), null)).build();
  }

  private static ImageEvent ref(String id, String uri) {
    return ImageEvent.newBuilder().setEventId(id).setSourcePlatform("test").setIngestedAt(Instant.now())
        .setImage(new ImageReference(uri)).build();
  }

  private static <V> void produce(Topic<String, V> t, Map<String, V> records) throws Exception {
    try (var p = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()), t.keySerde().serializer(), t.valueSerde().serializer())) {
      for (var e : records.entrySet()) {
        p.send(new ProducerRecord<>(t.name(), e.getKey(), e.getValue()));
      }
      p.flush();
    }
  }

  private static <V> List<V> read(Topic<String, V> t, int atLeast, Duration timeout) {
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "check-" + UUID.randomUUID());
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<V> out = new ArrayList<>();
    try (var c = new KafkaConsumer<>(cfg, t.keySerde().deserializer(), t.valueSerde().deserializer())) {
      c.subscribe(List.of(t.name()));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < atLeast && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(300)).forEach(r -> out.add(r.value()));
      }
    }
    return out;
  }

  @Test
  void twoHundredEventsTwentyBadGiveTwoHundredVerdictsAndTwentyDeadLetters() throws Exception {
    String prefix = "app" + UUID.randomUUID().toString().substring(0, 6) + ".";
    Map<String, ImageEvent> events = new LinkedHashMap<>();
    byte[] good = null;
    for (int i = 0; i < 180; i++) {
      byte[] b = png(DemoImages.generate(i % 2 == 0 ? DemoImages.Kind.CAMERA : DemoImages.Kind.UPSAMPLED,
          64 + i % 7, 48 + i % 5, i));
      good = b;
      events.put("ok-" + i, inline("ok-" + i, b));
    }
    for (int i = 0; i < 5; i++) {
      events.put("trunc-" + i, inline("trunc-" + i, java.util.Arrays.copyOf(good, good.length / 2)));
      events.put("html-" + i, inline("html-" + i, "<html>hi</html>".getBytes()));
      events.put("missing-" + i, ref("missing-" + i, dir.resolve("nope-" + i + ".png").toUri().toString()));
      events.put("ssrf-" + i, ref("ssrf-" + i, "http://169.254.169.254/latest/" + i + ".png"));
    }
    Settings s = Settings.of(settings(prefix, dir.resolve("state-" + prefix)));
    try (DetectorApp app = new DetectorApp(s)) {
      app.start();
      Topics topics = new Topics(prefix, TestRegistry.shared().client());
      produce(topics.imageEvents(), events);
      List<Verdict> verdicts = read(topics.verdicts(), 200, Duration.ofMinutes(4));
      Map<String, Integer> perId = new HashMap<>();
      verdicts.forEach(v -> perId.merge(v.getEventId(), 1, Integer::sum));
      assertEquals(200, perId.size());
      assertTrue(perId.values().stream().allMatch(n -> n == 1));
      assertEquals(180, verdicts.stream().filter(v -> v.getStatus() == VerdictStatus.OK).count());
      assertTrue(verdicts.stream().filter(v -> v.getStatus() == VerdictStatus.OK)
          .allMatch(v -> v.getModelVersion().equals("1.0.0") && v.getSha256().length() == 64
              && v.getAttention().size() == 5));
      Map<String, Integer> reasons = new TreeMap<>();
      read(topics.deadLetters(), 20, Duration.ofSeconds(30))
          .forEach(d -> reasons.merge(d.getReasonCode(), 1, Integer::sum));
      assertEquals(Map.of("ADDRESS_NOT_ALLOWED", 5, "FILE_NOT_FOUND", 5, "TRUNCATED", 5, "UNSUPPORTED_FORMAT", 5),
          reasons);
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + app.opsPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(metrics.contains("semspai_dead_letters_total{reason=\"TRUNCATED\"} 5.0"), "metrics export");
      assertTrue(metrics.contains("semspai_model_version{version=\"1.0.0\"} 1.0"));
      assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + app.opsPort() + "/health/ready")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode());
    }
  }

  @Test
  void hotSwapUnderLoadSwitchesVersionAtABatchBoundaryAndLosesNothing() throws Exception {
    String prefix = "swap" + UUID.randomUUID().toString().substring(0, 6) + ".";
    Path store = dir.resolve("store");
    Files.createDirectories(store);
    Path archive2 = store.resolve("semspai-2.0.0.zip");
    BundleArchive.pack(bundleV2, archive2);
    Path archive3 = store.resolve("semspai-3.0.0.zip");
    BundleArchive.pack(bundleV2, archive3);
    Settings s = Settings.of(settings(prefix, dir.resolve("state-" + prefix)));
    try (DetectorApp app = new DetectorApp(s)) {
      app.start();
      Topics topics = new Topics(prefix, TestRegistry.shared().client());
      assertTrue(app.awaitReleasesReplayed(Duration.ofSeconds(30)));
      int n = 0;
      for (int round = 0; round < 6; round++) {
        Map<String, ImageEvent> batch = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++, n++) {
          // distinct bytes per event, so the content-hash cache never answers
          byte[] b = png(DemoImages.generate(DemoImages.Kind.CAMERA, 80, 60, 1000 + n));
          batch.put("e" + n, inline("e" + n, b));
        }
        produce(topics.imageEvents(), batch);
        if (round == 2) {
          // A corrupt release first: refused, 1.0.0 keeps serving. Then a good one.
          produce(topics.modelReleases(), Map.of("semspai", release("3.0.0", archive3, "00".repeat(32))));
          produce(topics.modelReleases(), Map.of("semspai", release("2.0.0", archive2,
              ModelStore.sha256(archive2))));
        }
        Thread.sleep(700);
      }
      List<Verdict> verdicts = read(topics.verdicts(), n, Duration.ofMinutes(3));
      assertEquals(n, verdicts.size(), "no event lost across the swap");
      List<String> versions = verdicts.stream().map(Verdict::getModelVersion).toList();
      int firstV2 = versions.indexOf("2.0.0");
      int lastV1 = versions.lastIndexOf("1.0.0");
      assertTrue(firstV2 > 0, "some verdicts from 1.0.0, then 2.0.0: " + versions);
      // Verdicts come in offset order, but images reach the engine as their fetch and decode finish, so around
      // the swap the two versions may interleave among the images in flight then, and only there.
      int window = s.integer("detector.max-in-flight", 32, 1, 100_000);
      assertTrue(lastV1 - firstV2 < window, "1.0.0 and 2.0.0 interleave only among the " + window + " images in "
          + "flight at the swap: " + versions);
      assertTrue(versions.subList(lastV1 + 1, versions.size()).stream().allMatch("2.0.0"::equals),
          "after the switch every verdict is 2.0.0: " + versions);
      assertTrue(versions.stream().noneMatch("3.0.0"::equals), "the corrupt release never served");
      assertEquals("2.0.0", app.engine().modelVersion());
    }
  }

  private static ModelRelease release(String version, Path archive, String sha) {
    return ModelRelease.newBuilder().setModelName("semspai").setVersion(version)
        .setArtifactUri(archive.toUri().toString()).setArtifactSha256(sha).setStatus(ReleaseStatus.PROMOTED)
        .setCreatedAt(Instant.now()).build();
  }
}
