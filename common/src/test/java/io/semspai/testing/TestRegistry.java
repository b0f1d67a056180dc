package io.semspai.testing;

import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.stack.Ports;
import io.semspai.stack.RegistryServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The real Apicurio Registry server as a child process of the test JVM, reached through its Confluent-compatible
 * API. The build unpacks it from Maven Central into {@code target/apicurio} (system property
 * {@code semspai.test.registry.dir}). One per JVM, started on first use (~3 s).
 */
public final class TestRegistry implements AutoCloseable {
  private static TestRegistry shared;

  private final Process process;
  private final int port;
  private final Path log;

  private TestRegistry() throws IOException {
    String dir = System.getProperty("semspai.test.registry.dir");
    if (dir == null) {
      throw new IllegalStateException("system property semspai.test.registry.dir is not set (run the tests with Maven)");
    }
    Path data = Files.createTempDirectory("semspai-registry-");
    this.port = Ports.pickFree();
    this.log = data.resolve("registry.log");
    this.process = RegistryServer.command(Path.of(dir), port, data, "semspai.test.registry")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.currentTimeMillis() + 90_000;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("test registry exited: " + Files.readString(log));
      }
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url() + "/subjects")).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          break;
        }
      } catch (IOException e) {
        // not up yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      if (System.currentTimeMillis() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("test registry did not start within 90 s: " + Files.readString(log));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  public static synchronized TestRegistry shared() {
    if (shared == null) {
      try {
        shared = new TestRegistry();
      } catch (IOException e) {
        throw new IllegalStateException("cannot start the test registry", e);
      }
      TestRegistry r = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(r::close, "test-registry-shutdown"));
    }
    return shared;
  }

  public String url() {
    return RegistryServer.url(port);
  }

  public SchemaRegistryClient client() {
    return new SchemaRegistryClient(RegistryConfig.of(url()));
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
