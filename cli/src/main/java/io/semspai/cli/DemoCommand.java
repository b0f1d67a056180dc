package io.semspai.cli;

import io.semspai.avro.DeadLetter;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.avro.InlineImage;
import io.semspai.avro.Verdict;
import io.semspai.avro.VerdictStatus;
import io.semspai.config.Settings;
import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.stack.LocalStack;
import io.semspai.stream.DetectorApp;
import io.semspai.topics.Topic;
import io.semspai.topics.Topics;
import io.semspai.topics.TopicPublisher;
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
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./semspai demo}: the whole loop on this machine. Brings the local stack up, starts the detector on a model
 * bundle (a tiny random-init one unless {@code --model} names real weights), publishes the sample images and a few
 * broken events, prints the verdicts and the dead letters, and shuts everything down, on Ctrl-C too.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole loop locally: stack, detector, sample images, verdicts (brings everything down).")
public final class DemoCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(names = "--model", description = "Model bundle to serve (default: a tiny random-init bundle).")
  Path model;

  @Option(names = "--samples", description = "Folder of images to publish (default: deploy/samples).")
  Path samples;

  @Option(names = "--keep-stack", description = "Leave the stack running afterwards.")
  boolean keepStack;

  @Option(names = "--timeout", defaultValue = "600", description = "Seconds to wait for all verdicts (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--no-train", description = "Stop after the first verdicts: no feedback, retrain or hot swap.")
  boolean noTrain;

  @Override
  public Integer call() throws Exception {
    Path home = Path.of(System.getProperty("semspai.home", ".")).toAbsolutePath();
    Path work = home.resolve(".semspai/demo");
    Path sampleDir = (samples != null ? samples : home.resolve("deploy/samples")).toAbsolutePath().normalize();
    if (!Files.isDirectory(sampleDir)) {
      throw new UserError("sample folder " + sampleDir + " does not exist");
    }
    LocalStack stack = stackOptions.stack();
    boolean wasRunning = stack.status(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    AtomicBoolean done = new AtomicBoolean();
    List<AutoCloseable> toClose = new ArrayList<>();
    Runnable shutdown = () -> {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      for (int i = toClose.size() - 1; i >= 0; i--) {
        try {
          toClose.get(i).close();
        } catch (Exception e) {
          System.err.println("while stopping: " + e);
        }
      }
      if (!keepStack && !wasRunning) {
        System.out.println("== stopping the local stack");
        stack.down(System.out);
      }
    };
    Thread hook = new Thread(shutdown, "demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C brings everything down too
    try {
      System.out.println("== local stack: Kafka broker + schema registry, no Docker");
      try {
        stack.up(System.out);
      } catch (IllegalStateException e) {
        throw new UserError(e.getMessage(), 1, e);
      }
      Path bundle = model != null ? model.toAbsolutePath() : tinyBundle(work);
      String prefix = "demo-" + UUID.randomUUID().toString().substring(0, 8) + ".";
      Map<String, String> cfg = new LinkedHashMap<>();
      cfg.put("kafka.bootstrap.servers", stack.settings().bootstrapServers());
      cfg.put("schema.registry.url", stack.settings().registryUrl());
      cfg.put("topics.prefix", prefix);
      cfg.put("topics.partitions", "1");
      cfg.put("model.bundle", bundle.toString());
      cfg.put("model.store", work.resolve("models-" + prefix).toString());
      cfg.put("detector.state-dir", work.resolve("detector-" + prefix).toString());
      cfg.put("detector.application-id", "semspai-demo-" + prefix);
      Files.createDirectories(work);
      cfg.put("intake.file-roots", sampleDir + "," + work); // the samples, and the labeled images made below
      cfg.put("http.port", "0");
      cfg.put("streams.commit.interval.ms", "200");
      cfg.put("detector.publish-features", "true");
      System.out.println("== detector: model " + bundle + ", topics " + prefix + "*");
      DetectorApp app = new DetectorApp(Settings.of(cfg));
      toClose.add(app);
      app.start();
      System.out.println("== metrics and health: http://127.0.0.1:" + app.opsPort() + "/metrics");

      SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.of(stack.settings().registryUrl()));
      Topics topics = new Topics(prefix, registry);
      Map<String, String> names = publish(stack.settings().bootstrapServers(), topics, sampleDir);
      System.out.println("== published " + names.size() + " image events (" + (names.size() - brokenCount())
          + " samples, " + brokenCount() + " broken) and 1 undecodable record");

      Map<String, Verdict> verdicts = readVerdicts(stack.settings().bootstrapServers(), topics.verdicts(),
          names.size(), Duration.ofSeconds(timeoutSeconds));
      printVerdicts(names, verdicts);
      Map<String, Integer> dls = countDeadLetters(stack.settings().bootstrapServers(), topics.deadLetters(),
          brokenCount() + 1);
      System.out.println();
      System.out.println("dead letters per reason:");
      dls.forEach((reason, n) -> System.out.printf("  %-24s %d%n", reason, n));
      System.out.println();
      System.out.println(model == null
          ? "NOTE: the model is random-init (tiny preset): its scores mean nothing. Import real weights with "
              + "'./semspai model import' and pass --model, or train the head as below."
          : "Model: " + bundle);
      if (verdicts.size() != names.size()) {
        return 1;
      }
      return noTrain ? 0 : learn(stack, topics, cfg, work.resolve("labeled-" + prefix), app);
    } finally {
      shutdown.run();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException ignored) {
        // the JVM is already shutting down
      }
    }
  }

  /**
   * The rest of the loop: labeled demo images through the detector, trusted feedback, a retrain gated on the
   * holdout, the PROMOTED head hot-swapped into the running detector, and fresh images scored by the new head.
   */
  private int learn(LocalStack stack, Topics topics, Map<String, String> cfg, Path images, DetectorApp app)
      throws Exception {
    Files.createDirectories(images);
    DemoLoop loop = new DemoLoop(stack.settings().bootstrapServers(), topics, images);
    System.out.println();
    System.out.println("== the loop: 80 labeled images of the two demo classes (camera-like vs checkerboard-"
        + "upsampled, see README) go through the detector");
    Map<String, Integer> truth = loop.publishImages("train-", 0, 80, 96);
    Map<String, Verdict> first = loop.verdicts("train-", truth.size(), Duration.ofSeconds(timeoutSeconds));
    System.out.printf("== starting head %s: AUC of the two classes on them %.3f%n", app.engine().modelVersion(),
        DemoLoop.auc(first, truth));
    loop.publishFeedback(first, truth);
    System.out.println("== published 80 trusted-dataset labels; the trainer retrains the fusion head");
    Map<String, String> tcfg = new LinkedHashMap<>(cfg);
    tcfg.put("trainer.retrain-after", "1000000");
    tcfg.put("trainer.min-per-class", "4");
    try (io.semspai.trainer.TrainerApp trainer = new io.semspai.trainer.TrainerApp(Settings.of(tcfg))) {
      io.semspai.trainer.TrainerService.Outcome outcome = trainer.start().retrain();
      System.out.println(outcome.table());
      outcome.reasons().forEach(r -> System.out.println("  " + r));
      if (!outcome.promoted()) {
        System.out.println("== challenger " + outcome.version() + " REJECTED; the detector keeps its head");
        return 0;
      }
      System.out.println("== challenger " + outcome.version() + " PROMOTED; waiting for the detector to swap it in");
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!app.engine().modelVersion().equals(outcome.version()) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      System.out.println("== detector now serves " + app.engine().modelVersion());
      Map<String, Integer> heldOut = loop.publishImages("fresh-", 5000, 40, 96);
      Map<String, Verdict> second = loop.verdicts("fresh-", heldOut.size(), Duration.ofSeconds(timeoutSeconds));
      long onNew = second.values().stream().filter(v -> v.getModelVersion().equals(outcome.version())).count();
      System.out.printf("== 40 fresh images: %d verdicts from %s, AUC of the two classes %.3f (the starting head "
          + "gave %.3f)%n", onNew, outcome.version(), DemoLoop.auc(second, heldOut), DemoLoop.auc(first, truth));
      return 0;
    }
  }

  private static Path tinyBundle(Path work) throws Exception {
    Path dir = work.resolve("model-tiny-fusion");
    if (!Files.isDirectory(dir)) {
      System.out.println("== creating a tiny random-init model bundle in " + dir);
      SemSpaiBundles.writeRandom(dir, SemSpaiBundles.Preset.named("tiny"), 7, "semspai-demo", "0.0.1-random",
          "native");
    }
    return dir;
  }

  private static final String[][] BROKEN = {
    {"broken-truncated-jpeg", "inline:truncated"},
    {"broken-html-as-jpg", "inline:html"},
    {"broken-missing-file", "file:///no/such/image.jpg"},
    {"broken-metadata-ip", "http://169.254.169.254/latest/meta-data/image.jpg"},
    {"broken-s3", "s3://bucket/key.jpg"},
  };

  private static int brokenCount() {
    return BROKEN.length;
  }

  /** Publishes every sample (inline and by file:// reference, alternately) and the broken events. */
  private static Map<String, String> publish(String bootstrap, Topics topics, Path sampleDir) throws Exception {
    Map<String, String> names = new LinkedHashMap<>();
    Topic<String, ImageEvent> t = topics.imageEvents();
    List<Path> files;
    try (Stream<Path> s = Files.list(sampleDir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    try (var p = TopicPublisher.of(bootstrap, t)) {
      int i = 0;
      for (Path f : files) {
        String id = "sample-" + (i++);
        ImageEvent.Builder e = ImageEvent.newBuilder().setEventId(id).setSourcePlatform("demo")
            .setIngestedAt(Instant.now());
        if (i % 2 == 0 && Files.size(f) <= topics.inlineImageCap()) {
          e.setImage(new InlineImage(ByteBuffer.wrap(Files.readAllBytes(f)), null));
        } else {
          e.setImage(new ImageReference(f.toUri().toString()));
        }
        p.send(id, e.build());
        names.put(id, f.getFileName().toString());
      }
      byte[] jpeg = Files.readAllBytes(files.stream().filter(f -> f.toString().endsWith(".jpg")).findFirst()
          .orElseThrow());
      for (String[] b : BROKEN) {
        ImageEvent.Builder e = ImageEvent.newBuilder().setEventId(b[0]).setSourcePlatform("demo")
            .setIngestedAt(Instant.now());
        switch (b[1]) {
          case "inline:truncated" -> e.setImage(new InlineImage(
              ByteBuffer.wrap(java.util.Arrays.copyOf(jpeg, jpeg.length / 3)), "image/jpeg"));
          case "inline:html" -> e.setImage(new InlineImage(
              ByteBuffer.wrap("<html><body>not an image</body></html>".getBytes()), "image/jpeg"));
          default -> e.setImage(new ImageReference(b[1]));
        }
        p.send(b[0], e.build());
        names.put(b[0], b[1]);
      }
    }
    try (var raw = new TopicPublisher<>(bootstrap, t.name(), new StringSerializer(), new ByteArraySerializer())) {
      raw.send("garbage", "{\"not\": \"avro\"}".getBytes());
    }
    return names;
  }

  private static Map<String, Verdict> readVerdicts(String bootstrap, Topic<String, Verdict> topic, int expected,
      Duration timeout) {
    Map<String, Verdict> out = new LinkedHashMap<>();
    try (var c = consumer(bootstrap, topic)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(500)).forEach(r -> out.put(r.key(), r.value()));
      }
    }
    return out;
  }

  private static Map<String, Integer> countDeadLetters(String bootstrap, Topic<String, DeadLetter> topic,
      int expected) {
    Map<String, Integer> n = new TreeMap<>();
    try (var c = consumer(bootstrap, topic)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      int seen = 0;
      while (seen < expected && System.nanoTime() < deadline) {
        for (var r : c.poll(Duration.ofMillis(500))) {
          n.merge(r.value().getReasonCode(), 1, Integer::sum);
          seen++;
        }
      }
    }
    return n;
  }

  private static <V> KafkaConsumer<String, V> consumer(String bootstrap, Topic<String, V> topic) {
    Map<String, Object> cfg = new HashMap<>();
    cfg.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cfg.put(ConsumerConfig.GROUP_ID_CONFIG, "demo-reader-" + UUID.randomUUID());
    cfg.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cfg.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    KafkaConsumer<String, V> c = new KafkaConsumer<>(cfg, topic.keySerde().deserializer(),
        topic.valueSerde().deserializer());
    c.subscribe(List.of(topic.name()));
    return c;
  }

  private static void printVerdicts(Map<String, String> names, Map<String, Verdict> verdicts) {
    System.out.println();
    System.out.printf("%-28s %-10s %-8s %-16s %10s  %s%n", "image", "label", "score", "model", "latency", "detail");
    for (var e : names.entrySet()) {
      Verdict v = verdicts.get(e.getKey());
      String image = e.getValue().length() > 28 ? "…" + e.getValue().substring(e.getValue().length() - 27)
          : e.getValue();
      if (v == null) {
        System.out.printf("%-28s %-10s%n", image, "(no verdict)");
      } else if (v.getStatus() == VerdictStatus.OK) {
        System.out.printf("%-28s %-10s %-8.4f %-16s %8.0f ms  %dx%d, %d patches%n", image, v.getLabel(),
            v.getScore(), v.getModelVersion(), v.getTimings().getTotalMs(), v.getImageWidth(), v.getImageHeight(),
            v.getAttention().size());
      } else {
        System.out.printf("%-28s %-10s %-8s %-16s %8.0f ms  %s%n", image, "ERROR", "-", v.getModelVersion(),
            v.getTimings().getTotalMs(), v.getError().getReasonCode());
      }
    }
  }
}
