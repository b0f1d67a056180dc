package io.semspai.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.avro.Verdict;
import io.semspai.config.Settings;
import io.semspai.engine.InferenceEngine;
import io.semspai.image.RgbImage;
import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.stack.LocalStack;
import io.semspai.stream.DetectorApp;
import io.semspai.topics.Topics;
import io.semspai.topics.TopicPublisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./semspai bench stream}: the whole detector against the local broker, then the engine alone on the same
 * images, in one process. The ratio is what Kafka, exactly-once, parking and the intake cost on top of inference.
 */
@Command(name = "stream", mixinStandardHelpOptions = true,
    description = "The detection service on the local stack vs the engine alone, on the same images.")
public final class BenchStreamCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(names = "--preset", defaultValue = "tiny", description = "Model preset (random init), default ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--images", defaultValue = "60", description = "Events in the run (default ${DEFAULT-VALUE}).")
  int images;

  @Override
  public Integer call() throws Exception {
    if (!preset.equals("tiny") && !preset.equals("full")) {
      throw new UserError("--preset must be tiny or full, got '" + preset + "'");
    }
    if (images < 1) {
      throw new UserError("--images must be positive");
    }
    Path bundle = BenchWorkload.randomBundle(preset, 1);
    Path work = Path.of(System.getProperty("semspai.home", "."), ".semspai", "bench", "stream-images")
        .toAbsolutePath();
    Files.createDirectories(work);
    // Smaller images than the engine bench: the point is the service's overhead, not the model.
    List<RgbImage> imgs = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < images; i++) {
      RgbImage im = io.semspai.demo.DemoImages.generate(io.semspai.demo.DemoImages.Kind.CAMERA,
          i % 3 == 0 ? 512 : 256, i % 3 == 0 ? 384 : 256, 500 + i);
      imgs.add(im);
      Path f = work.resolve("img-" + i + ".png");
      if (!Files.exists(f)) {
        ImageIO.write(io.semspai.perturb.Pixels.toBufferedImage(im), "png", f.toFile());
      }
      files.add(f);
    }
    LocalStack stack = stackOptions.stack();
    boolean wasRunning = stack.status(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    double streamSeconds;
    try {
      stack.up(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
      String prefix = "bench-" + UUID.randomUUID().toString().substring(0, 8) + ".";
      Map<String, String> cfg = new LinkedHashMap<>();
      cfg.put("kafka.bootstrap.servers", stack.settings().bootstrapServers());
      cfg.put("schema.registry.url", stack.settings().registryUrl());
      cfg.put("topics.prefix", prefix);
      cfg.put("model.bundle", bundle.toString());
      cfg.put("detector.state-dir", Files.createTempDirectory("semspai-bench-").toString());
      cfg.put("detector.application-id", "bench-" + prefix);
      cfg.put("intake.file-roots", work.toString());
      cfg.put("engine.cache-entries", "0");
      cfg.put("http.port", "0");
      System.out.printf("bench stream: random-init %s, %d events, %d CPU cores, load average %s%n", preset, images,
          Runtime.getRuntime().availableProcessors(), BenchWorkload.loadAverage());
      try (DetectorApp app = new DetectorApp(Settings.of(cfg))) {
        app.start();
        Topics topics = new Topics(prefix, new SchemaRegistryClient(RegistryConfig.of(stack.settings().registryUrl())));
        app.engine().submit(imgs.get(0), "warm-up", 0).get();
        try (var p = TopicPublisher.of(stack.settings().bootstrapServers(), topics.imageEvents());
             var c = verdictReader(stack.settings().bootstrapServers(), topics)) {
          c.poll(Duration.ofMillis(200));
          long t0 = System.nanoTime();
          for (int i = 0; i < images; i++) {
            p.send("b" + i, ImageEvent.newBuilder().setEventId("b" + i).setSourcePlatform("bench")
                .setIngestedAt(Instant.now()).setImage(new ImageReference(files.get(i).toUri().toString())).build());
          }
          p.flush();
          Map<String, Verdict> seen = new HashMap<>();
          long deadline = System.nanoTime() + Duration.ofHours(2).toNanos();
          while (seen.size() < images && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(100)).forEach(r -> seen.put(r.key(), r.value()));
          }
          streamSeconds = (System.nanoTime() - t0) / 1e9;
          if (seen.size() < images) {
            throw new IllegalStateException("only " + seen.size() + " of " + images + " verdicts arrived");
          }
        }
      }
    } finally {
      if (!wasRunning) {
        stack.down(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
      }
    }
    System.out.printf("%-12s %8.2f events/s %9.1f ms/event%n", "stream", images / streamSeconds,
        1000 * streamSeconds / images);

    double engineSeconds;
    try (InferenceEngine e = new InferenceEngine(BenchWorkload.openModel(bundle),
        InferenceEngine.Options.defaults(64L << 20).withCache(0), new SimpleMeterRegistry())) {
      e.submit(imgs.get(0), "warm-up", 0).get();
      long t0 = System.nanoTime();
      List<CompletableFuture<?>> fs = new ArrayList<>();
      for (int i = 0; i < images; i++) {
        fs.add(e.submit(imgs.get(i), "e" + i, 0));
      }
      CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get();
      engineSeconds = (System.nanoTime() - t0) / 1e9;
    }
    System.out.printf("%-12s %8.2f events/s %9.1f ms/event%n", "engine", images / engineSeconds,
        1000 * engineSeconds / images);
    System.out.printf("ratio stream/engine = %.2f%n", (images / streamSeconds) / (images / engineSeconds));
    return 0;
  }

  private static KafkaConsumer<String, Verdict> verdictReader(String bootstrap, Topics topics) {
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID());
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    KafkaConsumer<String, Verdict> c = new KafkaConsumer<>(cfg, topics.verdicts().keySerde().deserializer(),
        topics.verdicts().valueSerde().deserializer());
    c.subscribe(List.of(topics.verdicts().name()));
    return c;
  }
}
