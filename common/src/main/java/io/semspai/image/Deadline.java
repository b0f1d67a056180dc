package io.semspai.image;

import java.time.Duration;

/** A point in monotonic time that every step of one fetch or decode shares. */
final class Deadline {
  private final long end;
  private final Duration total;

  private Deadline(long end, Duration total) {
    this.end = end;
    this.total = total;
  }

  static Deadline after(Duration total) {
    return new Deadline(System.nanoTime() + total.toNanos(), total);
  }

  Duration total() {
    return total;
  }

  long remainingMillis() {
    long left = end - System.nanoTime();
    return left <= 0 ? 0 : (left + 999_999) / 1_000_000; // rounded up: a timeout set from it ends at or after the deadline
  }

  boolean expired() {
    return end - System.nanoTime() <= 0;
  }

  /** The smaller of {@code limitMillis} and what is left, at least 1 ms (0 means "forever" to sockets). */
  int clamp(long limitMillis) {
    return (int) Math.max(1, Math.min(Math.min(limitMillis, remainingMillis()), Integer.MAX_VALUE));
  }

  /** Whether a wait of {@code limitMillis} would be cut short by this deadline. */
  boolean binds(long limitMillis) {
    return remainingMillis() < limitMillis;
  }
}
