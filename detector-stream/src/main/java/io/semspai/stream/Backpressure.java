package io.semspai.stream;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The instance-wide count of parked events and the decision to stop consuming. Input pauses when the count reaches
 * {@code highWatermark} and resumes once it falls to {@code lowWatermark}, so the consumer does not flap.
 *
 * <p>Why not {@code KafkaStreams.pause()}: it also stops punctuators, and the punctuator is what drains parked
 * events, so the instance would never resume. Pausing the consumer's partitions instead keeps polling, heartbeats,
 * commits and punctuation going while no new records are fetched.
 */
public final class Backpressure {
  private final long highWatermark;
  private final long lowWatermark;
  private final AtomicLong parked = new AtomicLong();
  private final AtomicBoolean paused = new AtomicBoolean();
  private final AtomicLong pauses = new AtomicLong();
  private volatile boolean held;

  public Backpressure(long highWatermark) {
    if (highWatermark < 1) {
      throw new IllegalArgumentException("max parked events must be at least 1, got " + highWatermark);
    }
    this.highWatermark = highWatermark;
    this.lowWatermark = Math.max(0, highWatermark * 3 / 4);
  }

  void add(long delta) {
    long now = parked.addAndGet(delta);
    if (now >= highWatermark) {
      if (paused.compareAndSet(false, true)) {
        pauses.incrementAndGet();
      }
    } else if (now <= lowWatermark) {
      paused.set(false);
    }
  }

  /** True while input should not be fetched. */
  public boolean paused() {
    return held || paused.get();
  }

  /** Stops input regardless of the count, for shutdown: in-flight work drains while nothing new arrives. */
  public void hold() {
    held = true;
  }

  public long parked() {
    return parked.get();
  }

  public long highWatermark() {
    return highWatermark;
  }

  /** How many times input was paused since start. */
  public long pauseCount() {
    return pauses.get();
  }
}
