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

  /**
   * The default budget for a model placed on {@code placement}. On the CPU, {@link #defaultBudget()}. On a GPU the
   * activations live in GPU memory: half of {@code gpuMemoryBytes} ({@code engine.gpu-memory-mib}; the other half is
   * left for the weights, cuDNN workspaces and the caching allocator), or, when that is not set, half of what CUDA
   * reports free on the device; and never more than the host default, since pixels and patches wait on the heap.
   *
   * @throws IllegalArgumentException on a GPU when neither the setting nor CUDA gives a size
   */
  static long defaultBudget(io.semspai.nn.Placement placement, long gpuMemoryBytes) {
    long host = defaultBudget();
    if (!placement.onGpu()) {
      return host;
    }
    long gpu = gpuMemoryBytes > 0 ? gpuMemoryBytes : freeGpuBytes(placement.device());
    if (gpu <= 0) {
      throw new IllegalArgumentException("cannot tell how much memory " + placement.describe() + " has (CUDA did not "
          + "answer); set engine.gpu-memory-mib to the MiB the engine may use on it");
    }
    return Math.min(host, gpu / 2);
  }

  /** Free memory on a CUDA device as DJL's CudaUtils reports it, or -1 where CUDA is not there or does not answer. */
  static long freeGpuBytes(ai.djl.Device device) {
    try {
      if (!ai.djl.util.cuda.CudaUtils.hasCuda()) {
        return -1;
      }
      java.lang.management.MemoryUsage m = ai.djl.util.cuda.CudaUtils.getGpuMemory(device);
      long free = m.getMax() - Math.max(0, m.getUsed());
      return free > 0 ? free : m.getMax();
    } catch (RuntimeException | LinkageError e) {
      return -1;
    }
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
