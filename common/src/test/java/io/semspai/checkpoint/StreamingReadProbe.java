package io.semspai.checkpoint;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;

/**
 * Reads every tensor of a checkpoint's state dict, one at a time, keeping a checksum and nothing else; run in a
 * child JVM with a small {@code -Xmx} by {@link TorchCheckpointStreamingTest}. Prints one line:
 * {@code tensors=… bytes=… seconds=… checksum=… peakHeapMiB=…}.
 */
public final class StreamingReadProbe {
  private StreamingReadProbe() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    long start = System.nanoTime();
    double checksum = 0;
    long bytes = 0;
    int tensors = 0;
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      for (TorchTensor t : ckpt.stateDict().tensors().values()) {
        float[] values = t.toFloats();
        for (int i = 0; i < values.length; i += 997) {
          checksum += values[i];
        }
        checksum += values[values.length - 1];
        bytes += t.byteSize();
        tensors++;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    System.out.printf("tensors=%d bytes=%d seconds=%.3f checksum=%.6f peakHeapMiB=%.1f%n", tensors, bytes, seconds,
        checksum, peak / 1048576.0);
  }
}
