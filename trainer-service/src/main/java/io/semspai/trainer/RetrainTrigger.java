package io.semspai.trainer;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * When the trainer retrains: after {@code after} new labels, or once {@code every} has passed since the last retrain
 * if at least one label arrived since (a quiet feedback stream does not retrain the same data again and again).
 * The per-class minimum is the retrain's own check, not the trigger's. Time comes from a nanosecond clock the caller
 * gives ({@code System::nanoTime} in the service), so tests can move it.
 */
public final class RetrainTrigger {
  /** Why a retrain is due. */
  public enum Reason { LABELS, TIMER }

  private final int after;
  private final long everyNanos;
  private final LongSupplier nanos;
  private long labelsAtLast;
  private long lastNanos;

  public RetrainTrigger(int after, Duration every, LongSupplier nanos) {
    if (after < 1 || every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("retrain trigger needs at least 1 label and a positive period, got " + after
          + " and " + every);
    }
    this.after = after;
    this.everyNanos = every.toNanos();
    this.nanos = nanos;
    this.lastNanos = nanos.getAsLong();
  }

  /** Whether a retrain is due with {@code labels} pieces of feedback seen in all; null when not. */
  public synchronized Reason due(long labels) {
    long fresh = labels - labelsAtLast;
    if (fresh >= after) {
      return Reason.LABELS;
    }
    return fresh > 0 && nanos.getAsLong() - lastNanos >= everyNanos ? Reason.TIMER : null;
  }

  /** A retrain started (or failed) having seen {@code labels}: both counts start again from here. */
  public synchronized void reset(long labels) {
    labelsAtLast = labels;
    lastNanos = nanos.getAsLong();
  }
}
