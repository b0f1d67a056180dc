package io.semspai.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 300 MB checkpoint, written here with {@link TorchCheckpointWriter}, is read tensor by tensor in a child JVM whose
 * whole heap is 48 MB: reading that loaded the file, or kept tensors alive, would run out of memory. The size can
 * be raised with {@code -Dsemspai.checkpoint.streamMiB=900} for measurements.
 */
class TorchCheckpointStreamingTest {
  private static final int HEAP_MIB = 48;
  private static final int TENSOR_FLOATS = 1 << 20; // 4 MiB per fp32 tensor, like a ViT-B MLP weight's order

  @TempDir Path tmp;

  @Test
  void readsA300MegabyteCheckpointInA48MegabyteHeap() throws Exception {
    int mib = Integer.getInteger("semspai.checkpoint.streamMiB", 300);
    Path file = tmp.resolve("big.pth");
    double expected = 0;
    long bytes = 0;
    int count = mib / 4;
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      Map<String, Object> model = new LinkedHashMap<>();
      for (int k = 0; k < count; k++) {
        float[] values = new float[TENSOR_FLOATS];
        for (int i = 0; i < values.length; i++) {
          values[i] = ((i * 31 + k * 7) % 1000) * 0.001f;
        }
        for (int i = 0; i < values.length; i += 997) {
          expected += values[i];
        }
        expected += values[values.length - 1];
        bytes += values.length * 4L;
        model.put("blocks." + k + ".mlp.fc1.weight", w.tensor(DType.F32, new long[] {1024, 1024}, values));
      }
      w.finish(Map.of("model", TorchCheckpointWriter.orderedDict(model), "epoch", 1));
    }
    assertTrue(Files.size(file) >= bytes);

    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + HEAP_MIB + "m", "-cp", System.getProperty("java.class.path"), StreamingReadProbe.class.getName(),
        file.toString()).redirectErrorStream(true).start();
    assertTrue(child.waitFor(5, TimeUnit.MINUTES), "probe finished");
    String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, child.exitValue(), out);
    System.out.println("streaming read of " + Files.size(file) / 1048576 + " MiB with -Xmx" + HEAP_MIB + "m: "
        + out.trim());

    Matcher m = Pattern.compile("tensors=(\\d+) bytes=(\\d+) seconds=([\\d.]+) checksum=([\\d.]+)").matcher(out);
    assertTrue(m.find(), out);
    assertEquals(count, Integer.parseInt(m.group(1)));
    assertEquals(bytes, Long.parseLong(m.group(2)));
    assertEquals(expected, Double.parseDouble(m.group(4)), 1e-3);
  }
}
