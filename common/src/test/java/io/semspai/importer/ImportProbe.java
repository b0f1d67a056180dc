package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one import; run in a child JVM with a small {@code -Xmx} so a test (or a measurement) sees that an import
 * streams. Arguments: {@code OUT [--spai FILE] [--convnext FILE] [--head FILE] [--set KEY=VALUE]…}. Prints one
 * line: {@code tensors=… bytes=… seconds=… peakHeapMiB=… maxHeapMiB=…} (tensors and bytes summed over the
 * components read from files).
 */
public final class ImportProbe {
  private ImportProbe() {}

  /** What a child import reported. */
  record Measured(int tensors, long bytes, double seconds, double peakHeapMiB) {}

  /** Runs {@link #main} in a child JVM with {@code -Xmx<heapMiB>m}, asserting that it succeeds. */
  static Measured inChildJvm(int heapMiB, Path out, String... options) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + heapMiB + "m", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
        ImportProbe.class.getName(), out.toString()));
    cmd.addAll(List.of(options));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(child.waitFor(20, TimeUnit.MINUTES), "import finished");
    assertEquals(0, child.exitValue(), text);
    Matcher m = Pattern.compile("tensors=(\\d+) bytes=(\\d+) seconds=([\\d.]+) peakHeapMiB=([\\d.]+)").matcher(text);
    assertTrue(m.find(), text);
    return new Measured(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), Double.parseDouble(m.group(3)),
        Double.parseDouble(m.group(4)));
  }

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    List<ModelImporter.Input> inputs = new ArrayList<>();
    List<String> settings = new ArrayList<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      Path file = Path.of(args[i + 1]);
      switch (args[i]) {
        case "--spai" -> inputs.add(new ModelImporter.Input(new SpaiImporter(), file));
        case "--convnext" -> inputs.add(new ModelImporter.Input(new ConvNextImporter(), file));
        case "--head" -> inputs.add(new ModelImporter.Input(new HeadImporter(), file));
        case "--set" -> settings.add(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    long start = System.nanoTime();
    ModelImporter.Result r = ModelImporter.run(inputs, settings, out, "probe", "0.1.0", null);
    double seconds = (System.nanoTime() - start) / 1e9;
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    int tensors = 0;
    long bytes = 0;
    for (ModelImporter.ComponentReport c : r.components()) {
      tensors += c.tensorsWritten();
      bytes += c.bytes();
    }
    System.out.printf("tensors=%d bytes=%d seconds=%.3f peakHeapMiB=%.1f maxHeapMiB=%.1f%n", tensors, bytes, seconds,
        peak / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576.0);
  }
}
