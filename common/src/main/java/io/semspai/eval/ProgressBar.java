package io.semspai.eval;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Progress of a long run on stderr: done/total, images per second, ETA and the error count. On a terminal it
 * redraws one line in place (carriage return); when stderr is a file or pipe (CI logs, {@code 2> log}) it prints a
 * plain line at most every {@code logEvery} and at the end, so logs stay readable. Thread-safe: workers call
 * {@link #step(boolean)}.
 */
public final class ProgressBar implements AutoCloseable {
  private static final int WIDTH = 24;

  private final String label;
  private final int total;
  private final PrintStream out;
  private final boolean interactive;
  private final LongSupplier nanoClock;
  private final long redrawNanos;
  private final long start;
  private final AtomicInteger done = new AtomicInteger();
  private final AtomicInteger errors = new AtomicInteger();
  private long lastDraw = Long.MIN_VALUE;
  private boolean closed;

  /** On stderr; interactive when the JVM has a console. */
  public static ProgressBar onStderr(String label, int total) {
    return new ProgressBar(label, total, System.err, System.console() != null, System::nanoTime, 10_000_000_000L);
  }

  /**
   * @param interactive redraw in place (a terminal) or print separate lines (a log)
   * @param logEveryNanos minimum time between non-interactive lines (interactive redraws are limited to 10 per second)
   */
  public ProgressBar(String label, int total, PrintStream out, boolean interactive, LongSupplier nanoClock,
      long logEveryNanos) {
    if (total < 0) {
      throw new IllegalArgumentException("total must be >= 0, got " + total);
    }
    this.label = label;
    this.total = total;
    this.out = out;
    this.interactive = interactive;
    this.nanoClock = nanoClock;
    this.redrawNanos = interactive ? 100_000_000L : logEveryNanos;
    this.start = nanoClock.getAsLong();
  }

  /** One image finished; {@code failed} when it ended with a reason code instead of a score. */
  public void step(boolean failed) {
    done.incrementAndGet();
    if (failed) {
      errors.incrementAndGet();
    }
    maybeDraw(false);
  }

  public int done() {
    return done.get();
  }

  public int errors() {
    return errors.get();
  }

  /** The status line as it would be printed now. */
  public String line() {
    int d = done.get();
    double elapsed = (nanoClock.getAsLong() - start) / 1e9;
    double rate = elapsed > 0 ? d / elapsed : 0;
    int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * Math.min(d, total) / total);
    String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
    String eta;
    if (d >= total) {
      eta = "done in " + clock(elapsed);
    } else if (rate > 0) {
      eta = "ETA " + clock((total - d) / rate);
    } else {
      eta = "ETA --:--";
    }
    int e = errors.get();
    return String.format(Locale.ROOT, "%s [%s] %d/%d  %.1f img/s  %s%s", label, bar, d, total, rate, eta,
        e == 0 ? "" : "  errors " + e);
  }

  private synchronized void maybeDraw(boolean force) {
    if (closed) {
      return;
    }
    long now = nanoClock.getAsLong();
    boolean finished = done.get() >= total;
    if (!force && !finished && lastDraw != Long.MIN_VALUE && now - lastDraw < redrawNanos) {
      return;
    }
    lastDraw = now;
    if (interactive) {
      out.print("\r" + line() + "\u001b[K");
      if (finished) {
        out.println();
        closed = true;
      }
    } else {
      out.println(line());
      if (finished) {
        closed = true;
      }
    }
    out.flush();
  }

  /** Prints the final state (if not printed yet) and ends the line. */
  @Override
  public void close() {
    maybeDraw(true);
    synchronized (this) {
      if (interactive && !closed) {
        out.println();
      }
      closed = true;
    }
  }

  static String clock(double seconds) {
    long s = Math.max(0, Math.round(seconds));
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
        : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
  }
}
