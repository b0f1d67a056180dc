package io.semspai.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stack up/status/down}, twice, as real processes: the same code path as {@code ./semspai stack}. */
class LocalStackTest {
  @TempDir Path dir;

  private LocalStack stack(int kafka, int controller, int registry) {
    return new LocalStack(new LocalStack.Settings(dir, kafka, controller, registry,
        Path.of(System.getProperty("semspai.test.registry.dir")), System.getProperty("java.class.path")));
  }

  private static String run(java.util.function.Consumer<PrintStream> action) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    action.accept(new PrintStream(b, true, StandardCharsets.UTF_8));
    return b.toString(StandardCharsets.UTF_8);
  }

  @Test
  void upStatusDownTwiceInARow() throws Exception {
    LocalStack s = stack(Ports.pickFree(), Ports.pickFree(), Ports.pickFree());
    for (int round = 1; round <= 2; round++) {
      String up = run(s::up);
      assertTrue(up.contains("kafka     started") && up.contains("registry  started"), up);
      assertTrue(run(s::up).contains("already running"), "up is idempotent");
      assertTrue(s.status(new PrintStream(PrintStream.nullOutputStream())));
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", s.settings().bootstrapServers()))) {
        assertEquals(1, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size(), "a real broker answers");
      }
      assertTrue(Files.exists(dir.resolve("kafka.pid")) && Files.exists(dir.resolve("logs/registry.log")));
      String down = run(s::down);
      assertTrue(down.contains("registry  stopped") && down.contains("kafka     stopped"), down);
      assertFalse(s.status(new PrintStream(PrintStream.nullOutputStream())));
      assertTrue(run(s::down).contains("not running"), "down twice is harmless");
      assertFalse(Files.exists(dir.resolve("kafka.pid")));
    }
  }

  @Test
  void refusesAPortTakenByAnotherProcess() throws Exception {
    try (ServerSocket other = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      LocalStack s = stack(Ports.pickFree(), Ports.pickFree(), other.getLocalPort());
      var e = assertThrows(IllegalStateException.class, () -> s.up(new PrintStream(PrintStream.nullOutputStream())));
      assertTrue(e.getMessage().contains("port " + other.getLocalPort() + " on 127.0.0.1 is taken"), e.getMessage());
      assertFalse(Files.exists(dir.resolve("kafka.pid")), "nothing was started");
    }
  }

  @Test
  void aStalePidFileNeverStopsAStranger() throws Exception {
    // A PID file naming a live process that is not ours (this test JVM): down must leave it alone.
    Files.writeString(dir.resolve("kafka.pid"), Long.toString(ProcessHandle.current().pid()));
    LocalStack s = stack(Ports.pickFree(), Ports.pickFree(), Ports.pickFree());
    String status = run(p -> s.status(p));
    assertTrue(status.contains("kafka     stale pid file"), status);
    assertTrue(run(s::down).contains("kafka     not running"));
    assertTrue(ProcessHandle.current().isAlive());
  }
}
