package io.semspai.image;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loopback-only plumbing for the fetch tests. Nothing here resolves a real name or connects anywhere but loopback:
 * the resolver answers from a map, and the connector throws an AssertionError before opening a socket to any other
 * address, so even a broken address check cannot make a test send a packet elsewhere.
 */
final class TestNet {
  private TestNet() {}

  static InetAddress ip(String literal) {
    try {
      return InetAddress.getByAddress(literal, InetAddress.getByName(literal).getAddress());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }

  /** Answers from a fixed table; anything else is an unknown host. Counts lookups. */
  static final class MapResolver implements HostResolver {
    final Map<String, List<InetAddress>> table = new ConcurrentHashMap<>();
    final AtomicInteger lookups = new AtomicInteger();

    MapResolver put(String host, String... addresses) {
      List<InetAddress> list = new ArrayList<>();
      for (String a : addresses) {
        list.add(ip(a));
      }
      table.put(host, list);
      return this;
    }

    @Override
    public List<InetAddress> resolve(String host) throws UnknownHostException {
      lookups.incrementAndGet();
      List<InetAddress> a = table.get(host);
      if (a == null) {
        throw new UnknownHostException(host);
      }
      return a;
    }
  }

  /** Connects only to loopback (and the unspecified address, which Linux routes to loopback). */
  static final class LoopbackOnly implements SocketConnector {
    final List<InetSocketAddress> attempts = Collections.synchronizedList(new ArrayList<>());

    @Override
    public Socket connect(InetSocketAddress address, int timeoutMillis) throws IOException {
      attempts.add(address);
      InetAddress ip = address.getAddress();
      if (ip == null || !(ip.isLoopbackAddress() || ip.isAnyLocalAddress())) {
        throw new AssertionError("a test tried to connect to " + address + "; tests may only reach loopback");
      }
      return SocketConnector.plain().connect(address, timeoutMillis);
    }
  }

  /** The canary: a real HTTP server on 127.0.0.1 (or ::1) that serves an image and counts every request. */
  static final class Canary implements AutoCloseable {
    final HttpServer server;
    final AtomicInteger requests = new AtomicInteger();
    final List<String> paths = Collections.synchronizedList(new ArrayList<>());
    final byte[] image;

    Canary(String bindAddress, byte[] image) throws IOException {
      this.image = image;
      server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(bindAddress), 0), 16);
      server.createContext("/", exchange -> {
        requests.incrementAndGet();
        String path = exchange.getRequestURI().toString();
        paths.add(path);
        try (exchange) {
          if (path.startsWith("/redirect?to=")) {
            String to = java.net.URLDecoder.decode(path.substring("/redirect?to=".length()), StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Location", to);
            exchange.sendResponseHeaders(302, -1);
          } else if (path.startsWith("/img.png")) {
            exchange.getResponseHeaders().add("Content-Type", "image/png");
            exchange.sendResponseHeaders(200, image.length);
            exchange.getResponseBody().write(image);
          } else {
            exchange.sendResponseHeaders(404, -1);
          }
        }
      });
      server.start();
    }

    int port() {
      return server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /** A raw TCP server on 127.0.0.1 for responses an HTTP server library would not send. */
  static final class RawServer implements AutoCloseable {
    interface Handler {
      void handle(int requestNumber, String requestHead, OutputStream out) throws IOException;
    }

    final ServerSocket socket;
    final AtomicInteger requests = new AtomicInteger();
    final List<String> heads = Collections.synchronizedList(new ArrayList<>());
    private final Thread acceptor;

    RawServer(Handler handler) throws IOException {
      socket = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
      acceptor = new Thread(() -> {
        while (!socket.isClosed()) {
          try {
            Socket s = socket.accept();
            Thread t = new Thread(() -> serve(s, handler), "raw-server-conn");
            t.setDaemon(true);
            t.start();
          } catch (IOException e) {
            return;
          }
        }
      }, "raw-server");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private void serve(Socket s, Handler handler) {
      try (s) {
        String head = readHead(s.getInputStream());
        int n = requests.incrementAndGet();
        heads.add(head);
        handler.handle(n, head, s.getOutputStream());
        s.getOutputStream().flush();
      } catch (SocketException e) {
        // the client hung up, as it should when it stops at a limit
      } catch (IOException | InterruptedRuntime e) {
        // test server: nothing to do
      }
    }

    private static String readHead(InputStream in) throws IOException {
      StringBuilder b = new StringBuilder();
      while (!b.toString().endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          break;
        }
        b.append((char) c);
      }
      return b.toString();
    }

    int port() {
      return socket.getLocalPort();
    }

    String url(String path) {
      return "http://127.0.0.1:" + port() + path;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static final class InterruptedRuntime extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedRuntime();
    }
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
