package io.semspai.importer;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.List;

/**
 * Imports a SPAI checkpoint into a bundle; run in a child JVM with a small {@code -Xmx} so a test (or a
 * measurement) sees that an import streams. Prints one line:
 * {@code tensors=… bytes=… seconds=… peakHeapMiB=… maxHeapMiB=…}.
 */
public final class ImportProbe {
  private ImportProbe() {}

  public static void main(String[] args) throws Exception {
    Path checkpoint = Path.of(args[0]);
    Path out = Path.of(args[1]);
    List<String> settings = args.length > 2 ? List.of(args).subList(2, args.length) : List.of();
    long start = System.nanoTime();
    ModelImporter.Result r = ModelImporter.run(List.of(new ModelImporter.Input(new SpaiImporter(), checkpoint)),
        settings, out, "probe", "0.1.0", null);
    double seconds = (System.nanoTime() - start) / 1e9;
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    ModelImporter.ComponentReport c = r.components().get(0);
    System.out.printf("tensors=%d bytes=%d seconds=%.3f peakHeapMiB=%.1f maxHeapMiB=%.1f%n", c.tensorsWritten(),
        c.bytes(), seconds, peak / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576.0);
  }
}
