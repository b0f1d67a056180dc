package io.semspai.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Retry, backoff and authentication behaviour, against a scripted registry on loopback. */
class SchemaRegistryClientRetryTest {
  private HttpServer server;
  private final List<String> authHeaders = Collections.synchronizedList(new ArrayList<>());

  private SchemaRegistryClient client(int status503Count, int finalStatus, String finalBody, String userInfo)
      throws IOException {
    AtomicInteger calls = new AtomicInteger();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      authHeaders.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
      int n = calls.incrementAndGet();
      int status = n <= status503Count ? 503 : finalStatus;
      byte[] body = (n <= status503Count ? "{\"error_code\":50301,\"message\":\"busy\"}" : finalBody)
          .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    server.start();
    URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return new SchemaRegistryClient(new RegistryConfig(url, userInfo, null, null, Duration.ofSeconds(2), 3,
        Duration.ofMillis(10), true));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void retries5xxThenSucceeds() throws IOException {
    SchemaRegistryClient c = client(2, 200, "{\"schema\":\"\\\"string\\\"\"}", null);
    assertEquals(Schema.create(Schema.Type.STRING), c.schemaById(5));
    assertEquals(3, authHeaders.size(), "two 503s, then the answer");
  }

  @Test
  void givesUpAfterTheConfiguredRetries() throws IOException {
    SchemaRegistryClient c = client(100, 200, "{}", null);
    var e = assertThrows(RegistryException.class, () -> c.schemaById(5));
    assertEquals(503, e.httpStatus());
    assertEquals(4, authHeaders.size(), "one call plus three retries");
  }

  @Test
  void doesNotRetry4xx() throws IOException {
    SchemaRegistryClient c = client(0, 422, "{\"error_code\":42201,\"message\":\"Invalid schema\"}", null);
    var e = assertThrows(RegistryException.class,
        () -> c.register("s-value", Schema.create(Schema.Type.STRING)));
    assertEquals(1, authHeaders.size());
    assertEquals(42201, e.errorCode());
    assertTrue(e.getMessage().contains("Invalid schema"), e.getMessage());
  }

  @Test
  void sendsBasicAuth() throws IOException {
    SchemaRegistryClient c = client(0, 200, "{\"id\":7}", "alice:s3cret");
    assertEquals(7, c.register("s-value", Schema.create(Schema.Type.STRING)));
    assertEquals("Basic YWxpY2U6czNjcmV0", authHeaders.get(0));
  }

  @Test
  void configFromKafkaStyleMap() {
    RegistryConfig cfg = RegistryConfig.fromMap(java.util.Map.of(RegistryConfig.URL, "http://h:8081/apis/ccompat/v7/",
        RegistryConfig.RETRIES, "5", RegistryConfig.AUTO_REGISTER, "false"));
    assertEquals(URI.create("http://h:8081/apis/ccompat/v7"), cfg.url());
    assertEquals(5, cfg.retries());
    assertEquals(false, cfg.autoRegister());
    var e = assertThrows(IllegalArgumentException.class, () -> RegistryConfig.fromMap(java.util.Map.of()));
    assertTrue(e.getMessage().contains("schema.registry.url"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> RegistryConfig.of("ftp://x"));
  }
}
