package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Size caps, deadlines, retries and HTTP framing against loopback servers that misbehave on purpose. */
class FetchLimitsTest {
  private byte[] png;

  @BeforeEach
  void load() {
    png = CorpusTest.bytes("base.png");
  }

  private static ImageIntake intake(IntakePolicy.Builder b) {
    return ImageIntake.builder(b.allow(List.of("127.0.0.0/8")).build()).connector(new TestNet.LoopbackOnly())
        .resolver(new TestNet.MapResolver()).build();
  }

  private static IntakeException fails(ImageIntake intake, String url) {
    return assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(url)));
  }

  private static String ok(int length) {
    return "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: " + length + "\r\n\r\n";
  }

  @Test
  void aSlowBodyHitsTheTotalDeadline() throws Exception {
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
      out.write(TestNet.ascii(ok(100_000)));
      for (int i = 0; i < 100; i++) {
        out.write(0); // one byte every 100 ms: each read is quick, the whole never ends in time
        out.flush();
        TestNet.sleep(100);
      }
    }); ImageIntake intake = intake(IntakePolicy.builder().readTimeout(Duration.ofSeconds(5))
        .totalDeadline(Duration.ofMillis(800)))) {
      long t0 = System.nanoTime();
      IntakeException e = fails(intake, s.url("/slow.png"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(IntakeReason.TIMEOUT, e.reason(), e.getMessage());
      assertTrue(e.getMessage().contains("intake.total-deadline"), e.getMessage());
      assertTrue(ms >= 700 && ms < 2_000, "stopped after " + ms + " ms");
      assertEquals(1, s.requests.get(), "a deadline timeout is not retried");
    }
  }

  @Test
  void aStalledServerHitsTheReadTimeoutAndIsRetried() throws Exception {
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
      if (n == 1) {
        out.write(TestNet.ascii(ok(png.length)));
        out.flush();
        TestNet.sleep(3_000); // headers, then nothing
        return;
      }
      out.write(TestNet.ascii(ok(png.length)));
      out.write(png);
    }); ImageIntake intake = intake(IntakePolicy.builder().readTimeout(Duration.ofMillis(300)).maxRetries(1)
        .retryBackoff(Duration.ofMillis(10)))) {
      long t0 = System.nanoTime();
      FetchedImage f = intake.fetch(ImageSource.parse(s.url("/x.png")));
      assertArrayEquals(png, f.bytes());
      assertEquals(2, s.requests.get());
      assertTrue((System.nanoTime() - t0) / 1_000_000 < 2_000);
    }
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> TestNet.sleep(3_000));
        ImageIntake intake = intake(IntakePolicy.builder().readTimeout(Duration.ofMillis(200)).maxRetries(0))) {
      IntakeException e = fails(intake, s.url("/x.png"));
      assertEquals(IntakeReason.TIMEOUT, e.reason());
      assertTrue(e.getMessage().contains("intake.read-timeout"), e.getMessage());
    }
  }

  @Test
  void anEndlessBodyHitsTheSizeCap() throws Exception {
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
      out.write(TestNet.ascii("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n"));
      byte[] block = new byte[64 * 1024];
      while (true) {
        out.write(block); // until the client hangs up
      }
    }); ImageIntake intake = intake(IntakePolicy.builder().maxBytes(1 << 20))) {
      IntakeException e = fails(intake, s.url("/endless.jpg"));
      assertEquals(IntakeReason.TOO_LARGE, e.reason(), e.getMessage());
      assertTrue(e.getMessage().contains("max-bytes 1048576"), e.getMessage());
    }
  }

  @Test
  void endlessChunkedBodyHitsTheSizeCapToo() throws Exception {
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
      out.write(TestNet.ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
      byte[] block = new byte[8192];
      while (true) {
        out.write(TestNet.ascii("2000\r\n"));
        out.write(block);
        out.write(TestNet.ascii("\r\n"));
      }
    }); ImageIntake intake = intake(IntakePolicy.builder().maxBytes(100_000))) {
      assertEquals(IntakeReason.TOO_LARGE, fails(intake, s.url("/x")).reason());
    }
  }

  @Test
  void aLargeContentLengthIsRefusedBeforeTheBodyIsRead() throws Exception {
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
      out.write(TestNet.ascii(ok(50_000_000)));
      out.flush();
      TestNet.sleep(5_000);
    }); ImageIntake intake = intake(IntakePolicy.builder())) {
      long t0 = System.nanoTime();
      IntakeException e = fails(intake, s.url("/big.png"));
      assertEquals(IntakeReason.TOO_LARGE, e.reason());
      assertTrue(e.getMessage().contains("Content-Length 50000000"), e.getMessage());
      assertTrue((System.nanoTime() - t0) / 1_000_000 < 1_000);
    }
  }

  @Test
  void aGzipBombCountsAsInflated() throws Exception {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        z.write(zeros);
      }
    }
    byte[] bomb = gz.toByteArray(); // ~64 KB that inflate to 64 MiB
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
      out.write(TestNet.ascii("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + bomb.length
          + "\r\n\r\n"));
      out.write(bomb);
    }); ImageIntake intake = intake(IntakePolicy.builder().maxBytes(1 << 20))) {
      IntakeException e = fails(intake, s.url("/bomb.png"));
      assertEquals(IntakeReason.TOO_LARGE, e.reason());
      assertTrue(e.getMessage().contains("inflated from gzip"), e.getMessage());
      assertTrue(bomb.length < (1 << 20), "the compressed body itself is under the cap");
    }
  }

  @Test
  void gzipAndDeflateBodiesAreInflated() throws Exception {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
      z.write(png);
    }
    ByteArrayOutputStream zl = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(zl)) {
      z.write(png);
    }
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(raw, new java.util.zip.Deflater(6, true))) {
      z.write(png);
    }
    byte[][] bodies = {gz.toByteArray(), zl.toByteArray(), raw.toByteArray()};
    String[] encodings = {"gzip", "deflate", "deflate"};
    for (int i = 0; i < bodies.length; i++) {
      byte[] body = bodies[i];
      String enc = encodings[i];
      try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
        out.write(TestNet.ascii("HTTP/1.1 200 OK\r\nContent-Encoding: " + enc + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
        int half = body.length / 2;
        chunk(out, body, 0, half);
        chunk(out, body, half, body.length - half);
        out.write(TestNet.ascii("0\r\nX-Trailer: yes\r\n\r\n"));
      }); ImageIntake intake = intake(IntakePolicy.builder())) {
        FetchedImage f = intake.fetch(ImageSource.parse(s.url("/ok.png")));
        assertArrayEquals(png, f.bytes(), enc + " #" + i);
        assertEquals(FetchedImage.sha256(png), f.sha256(), "the hash is of the inflated image");
      }
    }
  }

  private static void chunk(OutputStream out, byte[] b, int off, int len) throws IOException {
    out.write(TestNet.ascii(Integer.toHexString(len) + "\r\n"));
    out.write(b, off, len);
    out.write(TestNet.ascii("\r\n"));
  }

  @Test
  void fourHundredsAreNotRetriedAndFiveHundredsAre() throws Exception {
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) ->
        out.write(TestNet.ascii("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")));
        ImageIntake intake = intake(IntakePolicy.builder().maxRetries(3).retryBackoff(Duration.ofMillis(1)))) {
      IntakeException e = fails(intake, s.url("/gone.png"));
      assertEquals(IntakeReason.HTTP_4XX, e.reason());
      assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
      assertEquals(1, s.requests.get());
    }
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> {
      if (n < 3) {
        out.write(TestNet.ascii("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"));
      } else {
        out.write(TestNet.ascii(ok(png.length)));
        out.write(png);
      }
    }); ImageIntake intake = intake(IntakePolicy.builder().maxRetries(2).retryBackoff(Duration.ofMillis(20)))) {
      assertArrayEquals(png, intake.fetch(ImageSource.parse(s.url("/flaky.png"))).bytes());
      assertEquals(3, s.requests.get());
    }
    try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) ->
        out.write(TestNet.ascii("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")));
        ImageIntake intake = intake(IntakePolicy.builder().maxRetries(2).retryBackoff(Duration.ofMillis(20)))) {
      IntakeException e = fails(intake, s.url("/down.png"));
      assertEquals(IntakeReason.HTTP_5XX, e.reason());
      assertTrue(e.getMessage().contains("after 3 attempt(s)"), e.getMessage());
      assertEquals(3, s.requests.get());
    }
  }

  @Test
  void backoffGrowsAndIsCapped() {
    IntakePolicy p = IntakePolicy.builder().retryBackoff(Duration.ofMillis(100))
        .retryBackoffMax(Duration.ofMillis(250)).build();
    HttpFetcher f = new HttpFetcher(p, new AddressPolicy(List.of()), h -> List.of(), (a, t) -> {
      throw new AssertionError();
    }, null, null);
    for (int i = 0; i < 50; i++) {
      long first = f.backoffMillis(1);
      long second = f.backoffMillis(2);
      long tenth = f.backoffMillis(10);
      assertTrue(first >= 50 && first <= 100, "first " + first);
      assertTrue(second >= 100 && second <= 200, "second " + second);
      assertTrue(tenth >= 125 && tenth <= 250, "capped " + tenth);
    }
  }

  @Test
  void malformedAndEmptyResponsesHaveTheirOwnReasons() throws Exception {
    String[][] cases = {
      {"HTTP/1.1 204 No Content\r\n\r\n", "EMPTY"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "EMPTY"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this", "TRUNCATED"},
      {"HTTP/1.1 302 Found\r\n\r\n", "BAD_RESPONSE"},
      {"HTTP/1.1 206 Partial\r\nContent-Length: 3\r\n\r\nabc", "BAD_RESPONSE"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "BAD_RESPONSE"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "BAD_RESPONSE"},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc", "BAD_RESPONSE"},
      {"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", "BAD_RESPONSE"},
      {"SSH-2.0-OpenSSH\r\n\r\n", "BAD_RESPONSE"},
      {"", "BAD_RESPONSE"},
    };
    for (String[] c : cases) {
      try (TestNet.RawServer s = new TestNet.RawServer((n, head, out) -> out.write(TestNet.ascii(c[0])));
          ImageIntake intake = intake(IntakePolicy.builder().maxRetries(0))) {
        IntakeException e = fails(intake, s.url("/x.png"));
        assertEquals(c[1], e.reason().name(), c[0].replace("\r\n", "|") + " -> " + e.getMessage());
      }
    }
  }

  @Test
  void whenEveryFetchSlotStaysTakenTheNextFetchIsBusy() throws Exception {
    // The first fetch holds the only slot inside a connector that blocks until the test lets go; the second waits
    // for the slot until its deadline.
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SocketConnector blocking = (address, timeout) -> {
      inside.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new java.net.ConnectException("released by the test");
    };
    IntakePolicy policy = IntakePolicy.builder().allow(List.of("127.0.0.0/8")).maxInFlight(1).maxRetries(0)
        .totalDeadline(Duration.ofMillis(400)).build();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (ImageIntake intake = ImageIntake.builder(policy).connector(blocking).build()) {
      Future<?> first = pool.submit(() -> assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.parse("http://127.0.0.1:9/held.png"))));
      assertTrue(inside.await(5, TimeUnit.SECONDS));
      long t0 = System.nanoTime();
      IntakeException e = fails(intake, "http://127.0.0.1:9/waiting.png");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(IntakeReason.BUSY, e.reason(), e.getMessage());
      assertTrue(e.getMessage().contains("intake.max-in-flight"), e.getMessage());
      assertTrue(ms >= 350 && ms < 2_000, "waited " + ms + " ms");
      release.countDown();
      first.get(5, TimeUnit.SECONDS);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }
}
