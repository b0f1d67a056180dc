package io.semspai.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Java-written checkpoints read back in Java. The same file is left in {@code target/java-written/} with a JSON of
 * its source values, for {@code tools/checkpoint-fixtures/check_java_written.py} to torch.load and compare.
 */
class TorchCheckpointWriterTest {
  @TempDir Path tmp;

  private static final float[] SPECIAL = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
      65504f, 65519.99f, 65520f, 1e-8f, 3e-5f, 1f / 3, -2.5f, 3.4e38f, 1e-40f, 0.1f, 1.00048828125f};

  /** Writes the round-trip checkpoint and returns, per model key, its dtype and the float/long source values. */
  static Map<String, Object[]> writeSample(Path file) throws Exception {
    Random r = new Random(42);
    float[] conv = new float[4 * 3 * 2 * 2];
    for (int i = 0; i < conv.length; i++) {
      conv[i] = (float) r.nextGaussian();
    }
    Map<String, Object[]> sources = new LinkedHashMap<>();
    sources.put("patch_embed.weight", new Object[] {DType.F32, new long[] {4, 3, 2, 2}, conv});
    sources.put("special.f32", new Object[] {DType.F32, new long[] {SPECIAL.length}, SPECIAL});
    sources.put("special.f16", new Object[] {DType.F16, new long[] {SPECIAL.length}, SPECIAL});
    sources.put("special.bf16", new Object[] {DType.BF16, new long[] {SPECIAL.length}, SPECIAL});
    sources.put("random.f16", new Object[] {DType.F16, new long[] {2, 24}, Arrays.copyOf(conv, 48)});
    sources.put("random.bf16", new Object[] {DType.BF16, new long[] {48}, Arrays.copyOf(conv, 48)});
    sources.put("head.weight", new Object[] {DType.F64, new long[] {1, 4}, new float[] {0.1f, -1, 2, 1e-30f}});
    sources.put("steps", new Object[] {DType.I64, new long[] {}, new long[] {1L << 40}});
    sources.put("ids", new Object[] {DType.I32, new long[] {3}, new long[] {Integer.MIN_VALUE, -1, 7}});
    sources.put("i16", new Object[] {DType.I16, new long[] {2}, new long[] {-32768, 32767}});
    sources.put("i8", new Object[] {DType.I8, new long[] {2}, new long[] {-128, 127}});
    sources.put("u8", new Object[] {DType.U8, new long[] {2}, new long[] {0, 255}});
    sources.put("mask", new Object[] {DType.BOOL, new long[] {3}, new long[] {1, 0, 1}});
    sources.put("empty", new Object[] {DType.F32, new long[] {0, 3}, new float[0]});

    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      Map<String, Object> model = new LinkedHashMap<>();
      TorchCheckpointWriter.Tensor first = null;
      for (Map.Entry<String, Object[]> e : sources.entrySet()) {
        Object[] s = e.getValue();
        TorchCheckpointWriter.Tensor t = s[2] instanceof float[]
            ? w.tensor((DType) s[0], (long[]) s[1], (float[]) s[2])
            : w.tensor((DType) s[0], (long[]) s[1], (long[]) s[2]);
        model.put(e.getKey(), t);
        first = first == null ? t : first;
      }
      Map<Object, Object> optimizerState = new LinkedHashMap<>();
      optimizerState.put(0L, Map.of("exp_avg", first));
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("model", TorchCheckpointWriter.orderedDict(model));
      root.put("optimizer", Map.of("state", optimizerState));
      root.put("max_accuracy", 0.9);
      root.put("epoch", 3);
      root.put("name", "spai ✓");
      root.put("big", BigInteger.TWO.pow(70).negate());
      root.put("list", Arrays.asList(1, 2.5, "x", null, true, -70000L, 1L << 40));
      w.finish(root);
    }
    return sources;
  }

  @Test
  void roundTripsEveryDtypeAndThePlainData() throws Exception {
    Path file = tmp.resolve("spai.pth");
    Map<String, Object[]> sources = writeSample(file);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      assertEquals("spai", ckpt.archiveName());
      assertEquals("3", ckpt.formatVersion());
      StateDict sd = ckpt.stateDict();
      assertEquals(List.copyOf(sources.keySet()), List.copyOf(sd.keys()));
      for (Map.Entry<String, Object[]> e : sources.entrySet()) {
        TorchTensor t = sd.get(e.getKey());
        Object[] s = e.getValue();
        assertEquals(s[0], t.dtype(), e.getKey());
        assertArrayEquals((long[]) s[1], t.shape(), e.getKey());
        assertTrue(t.isContiguous());
        if (s[2] instanceof long[]) {
          assertArrayEquals((long[]) s[2], t.toLongs(), e.getKey());
          continue;
        }
        float[] src = (float[]) s[2];
        float[] got = t.toFloats();
        for (int i = 0; i < src.length; i++) {
          float want = switch ((DType) s[0]) {
            case F16 -> HalfFloat.halfToFloat(HalfFloat.floatToHalf(src[i]));
            case BF16 -> HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(src[i]));
            default -> src[i];
          };
          assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), e.getKey() + "[" + i + "]");
        }
      }
      assertEquals((double) 0.1f, sd.get("head.weight").toDoubles()[0]);

      Map<?, ?> root = (Map<?, ?>) ckpt.root();
      assertEquals(0.9, root.get("max_accuracy"));
      assertEquals(3L, root.get("epoch"));
      assertEquals("spai ✓", root.get("name"));
      assertEquals(BigInteger.TWO.pow(70).negate(), root.get("big"));
      assertEquals(Arrays.asList(1L, 2.5, "x", null, true, -70000L, 1L << 40), root.get("list"));
      Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) root.get("optimizer")).get("state");
      TorchTensor avg = assertInstanceOf(TorchTensor.class, ((Map<?, ?>) state.get(0L)).get("exp_avg"));
      assertEquals(sd.get("patch_embed.weight").storageKey(), avg.storageKey(), "one storage, two references");
    }
  }

  @Test
  void tensorDataIs64ByteAlignedLikeTorchWritesIt() throws Exception {
    Path file = tmp.resolve("aligned.pth");
    writeSample(file);
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    int entries = 0;
    for (int at = 0; bytes.getInt(at) == 0x04034b50; entries++) {
      int nameLen = bytes.getShort(at + 26) & 0xffff;
      int extraLen = bytes.getShort(at + 28) & 0xffff;
      long size = bytes.getInt(at + 18) & 0xffffffffL;
      int data = at + 30 + nameLen + extraLen;
      assertEquals(0, data % 64, "entry " + entries + " data at " + data);
      at = (int) (data + size);
    }
    assertEquals(14 + 3, entries);
  }

  @Test
  void bigEndianFilesAreConverted() throws Exception {
    Path file = tmp.resolve("big.pth");
    try (TorchCheckpointWriter w = TorchCheckpointWriter.createBigEndian(file, "big")) {
      Map<String, Object> sd = new LinkedHashMap<>();
      sd.put("w", w.tensor(DType.F32, new long[] {3}, new float[] {1.5f, -2, 1e-3f}));
      sd.put("h", w.tensor(DType.F16, new long[] {2}, new float[] {0.5f, 65504}));
      sd.put("n", w.tensor(DType.I64, new long[] {2}, new long[] {-1, 1L << 33}));
      w.finish(sd);
    }
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      assertEquals(ByteOrder.BIG_ENDIAN, ckpt.byteOrder());
      StateDict sd = ckpt.stateDict();
      assertArrayEquals(new float[] {1.5f, -2, 1e-3f}, sd.get("w").toFloats());
      assertArrayEquals(new float[] {0.5f, 65504}, sd.get("h").toFloats());
      assertArrayEquals(new long[] {-1, 1L << 33}, sd.get("n").toLongs());
    }
  }

  @Test
  void closingWithoutFinishLeavesNoFile() throws Exception {
    Path file = tmp.resolve("partial.pth");
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      w.tensor(DType.F32, new long[] {2}, new float[] {1, 2});
    }
    assertFalse(Files.exists(file));
  }

  @Test
  void refusesDataThatDoesNotFitTheShapeOrDtype() throws Exception {
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(tmp.resolve("x.pth"))) {
      assertThrows(IllegalArgumentException.class, () -> w.tensor(DType.F32, new long[] {2, 2}, new float[3]));
      assertThrows(IllegalArgumentException.class, () -> w.tensor(DType.U8, new long[] {1}, new long[] {256}));
      assertThrows(IllegalArgumentException.class, () -> w.tensor(DType.I64, new long[] {1}, new float[1]));
      assertThrows(IllegalArgumentException.class, () -> w.finish(Map.of("x", new Object())));
    }
  }

  /** Leaves target/java-written/java_written.{pth,json} for check_java_written.py (run by hand, needs torch). */
  @Test
  void leavesAFileForPythonToCheck() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "java-written"));
    Map<String, Object[]> sources = writeSample(dir.resolve("java_written.pth"));
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    for (Map.Entry<String, Object[]> e : sources.entrySet()) {
      ObjectNode t = out.putObject(e.getKey());
      Object[] s = e.getValue();
      t.put("dtype", ((DType) s[0]).torchName());
      ArrayNode shape = t.putArray("shape");
      for (long d : (long[]) s[1]) {
        shape.add(d);
      }
      ArrayNode values = t.putArray(s[2] instanceof float[] ? "source_bits32" : "values");
      if (s[2] instanceof float[]) {
        for (float f : (float[]) s[2]) {
          values.add(Float.floatToRawIntBits(f) & 0xffffffffL);
        }
      } else {
        for (long v : (long[]) s[2]) {
          values.add(v);
        }
      }
    }
    json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("java_written.json").toFile(), out);
    assertTrue(Files.size(dir.resolve("java_written.pth")) > 0);
  }
}
