package io.semspai.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
  @Test
  void showsRateEtaAndErrors() {
    AtomicLong now = new AtomicLong(0);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    ProgressBar bar = new ProgressBar("fake_mjv61", 100, new PrintStream(buf, true, StandardCharsets.UTF_8), false,
        now::get, 5_000_000_000L);
    for (int i = 0; i < 25; i++) {
      now.addAndGet(400_000_000L); // 2.5 images per second
      bar.step(i % 10 == 0);
    }
    assertEquals("fake_mjv61 [######..................] 25/100  2.5 img/s  ETA 00:30  errors 3", bar.line());
    assertEquals("1:05:00", ProgressBar.clock(3900));
  }

  @Test
  void logModePrintsSeparateLinesAtMostEveryIntervalAndTheEnd() {
    AtomicLong now = new AtomicLong(0);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (ProgressBar bar = new ProgressBar("set", 10, new PrintStream(buf, true, StandardCharsets.UTF_8), false,
        now::get, 3_000_000_000L)) {
      for (int i = 0; i < 10; i++) {
        now.addAndGet(1_000_000_000L);
        bar.step(false);
      }
    }
    List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
    // First step, then every 3 s (t=4, t=7), then the end at t=10; close adds nothing more.
    assertEquals(4, lines.size(), lines.toString());
    assertEquals("set [##......................] 1/10  1.0 img/s  ETA 00:09", lines.get(0));
    assertEquals("set [########################] 10/10  1.0 img/s  done in 00:10", lines.get(3));
    assertTrue(lines.stream().noneMatch(l -> l.contains("\r")));
  }

  @Test
  void terminalModeRedrawsOneLineInPlace() {
    AtomicLong now = new AtomicLong(0);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (ProgressBar bar = new ProgressBar("set", 3, new PrintStream(buf, true, StandardCharsets.UTF_8), true,
        now::get, 0)) {
      for (int i = 0; i < 3; i++) {
        now.addAndGet(1_000_000_000L);
        bar.step(i == 1);
      }
    }
    String s = buf.toString(StandardCharsets.UTF_8);
    assertEquals(3, s.chars().filter(c -> c == '\r').count());
    assertTrue(s.endsWith("3/3  1.0 img/s  done in 00:03  errors 1\u001b[K\n"), s);
    assertEquals(1, s.chars().filter(c -> c == '\n').count());
  }
}
