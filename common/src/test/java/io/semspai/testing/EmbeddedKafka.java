package io.semspai.testing;

import io.semspai.stack.KraftProperties;
import io.semspai.stack.Ports;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node KRaft broker inside the test JVM (Kafka's own server classes, not a mock). It uses
 * {@code KafkaRaftServer}, an internal API: re-check it when Kafka is upgraded. One per JVM, started on first use.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static EmbeddedKafka shared;

  private final Path dir;
  private final int port;
  private final KafkaRaftServer server;

  private EmbeddedKafka() throws IOException {
    this.dir = Files.createTempDirectory("semspai-kafka-");
    this.port = Ports.pickFree();
    int controllerPort = Ports.pickFree();
    Properties p = KraftProperties.singleNode(port, controllerPort, dir.resolve("logs"));
    Path props = dir.resolve("server.properties");
    try (OutputStream o = Files.newOutputStream(props)) {
      p.store(o, null);
    }
    ByteArrayOutputStream formatOut = new ByteArrayOutputStream();
    int rc = kafka.tools.StorageTool.execute(
        new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c", props.toString()},
        new PrintStream(formatOut, true, StandardCharsets.UTF_8));
    if (rc != 0) {
      throw new IllegalStateException("formatting the test broker failed: " + formatOut);
    }
    this.server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
    server.startup();
    long deadline = System.currentTimeMillis() + 60_000;
    while (!Ports.listening(port)) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("test broker did not listen on " + port);
      }
      sleep(50);
    }
  }

  /** The broker shared by every test in this JVM. */
  public static synchronized EmbeddedKafka shared() {
    if (shared == null) {
      try {
        shared = new EmbeddedKafka();
      } catch (IOException e) {
        throw new IllegalStateException("cannot start the test broker", e);
      }
      EmbeddedKafka k = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(k::close, "embedded-kafka-shutdown"));
    }
    return shared;
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  @Override
  public void close() {
    try {
      server.shutdown();
      server.awaitShutdown();
    } catch (RuntimeException ignored) {
      // best effort at JVM exit
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // temp dir; the OS cleans it eventually
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
