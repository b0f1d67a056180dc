package io.semspai.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operational HTTP endpoints of a service: {@code /metrics} (Prometheus text format), {@code /health/live} and
 * {@code /health/ready}. Each health check returns 200 with "ok", or 503 with the reason.
 */
public final class OpsServer implements AutoCloseable {
  /** A health check's answer: null when healthy, else why not. */
  public interface Check extends Supplier<String> {}

  private final HttpServer server;

  public OpsServer(String host, int port, PrometheusMeterRegistry registry, Check live, Check ready)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 0);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "ops-http");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/metrics", ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
        registry.scrape()));
    server.createContext("/health/live", ex -> health(ex, live));
    server.createContext("/health/ready", ex -> health(ex, ready));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void health(HttpExchange ex, Check check) throws IOException {
    String problem;
    try {
      problem = check.get();
    } catch (RuntimeException e) {
      problem = "check failed: " + e;
    }
    send(ex, problem == null ? 200 : 503, "text/plain; charset=utf-8", problem == null ? "ok\n" : problem + "\n");
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream o = ex.getResponseBody()) {
      o.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
