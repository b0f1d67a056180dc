package io.semspai.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/** A byte budget for decoded pixels and patches in flight: acquire before work, release after. */
final class MemoryBudget {
  private final long capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  private long used;

  MemoryBudget(long capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("memory budget must be positive, got " + capacity + " bytes");
    }
    this.capacity = capacity;
  }

  long capacity() {
    return capacity;
  }

  long used() {
    lock.lock();
    try {
      return used;
    } finally {
      lock.unlock();
    }
  }

  /** Takes {@code bytes} now if they fit; false otherwise. */
  boolean tryAcquire(long bytes) {
    lock.lock();
    try {
      if (used + bytes > capacity) {
        return false;
      }
      used += bytes;
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Waits until {@code bytes} fit, up to {@code timeoutNanos}; false on timeout. */
  boolean acquire(long bytes, long timeoutNanos) throws InterruptedException {
    lock.lock();
    try {
      long left = timeoutNanos;
      while (used + bytes > capacity) {
        if (left <= 0) {
          return false;
        }
        left = freed.awaitNanos(left);
      }
      used += bytes;
      return true;
    } finally {
      lock.unlock();
    }
  }

  void release(long bytes) {
    lock.lock();
    try {
      used -= bytes;
      freed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  static long defaultBudget() {
    // Half the heap the JVM may still grow into, since patches live on the heap before they become tensors,
    // plus a matching share of native memory for the tensors themselves, capped by what the machine has free.
    long heap = Runtime.getRuntime().maxMemory();
    long nativeFree = freeNativeBytes();
    long fromHeap = heap / 2;
    return nativeFree > 0 ? Math.min(fromHeap, nativeFree / 2) : fromHeap;
  }

  /** MemAvailable from /proc/meminfo, or -1 where that is not readable. */
  static long freeNativeBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  static long nanos(long millis) {
    return TimeUnit.MILLISECONDS.toNanos(millis);
  }
}
