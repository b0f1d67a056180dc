package io.semspai.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forms that PyTorch 2.x writes and Debian's torch 1.13 cannot produce, so the pickles are assembled here opcode
 * by opcode: {@code .data/version} and {@code byteorder} records, an untyped storage read through
 * {@code _rebuild_tensor_v3} with a dtype, {@code _rebuild_tensor_v2}'s metadata argument,
 * {@code _rebuild_parameter_with_state}, a tensor subclass through {@code _rebuild_from_type_v2}, and entries a zip
 * tool recompressed (deflated rather than stored).
 */
class NewerTorchFormsTest {
  @TempDir Path tmp;

  /** Just enough of a pickle writer to spell these forms. */
  private static final class Pickle {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle op(int... ops) {
      for (int op : ops) {
        out.write(op);
      }
      return this;
    }

    Pickle global(String module, String name) {
      out.write('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
      return this;
    }

    Pickle str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.write(0x8c); // SHORT_BINUNICODE
      out.write(b.length);
      out.writeBytes(b);
      return this;
    }

    Pickle integer(int v) {
      return op('K', v);
    }

    Pickle storage(String type, String key, int numel) {
      op('(').str("storage").global("torch", type).str(key).str("cpu").integer(numel).op('t', 'Q');
      return this;
    }

    Pickle orderedDict() {
      return global("collections", "OrderedDict").op(')', 'R');
    }
  }

  private static void write(Path file, byte[] pickle, Map<String, byte[]> data, int method) throws Exception {
    boolean stored = method == ZipEntry.STORED;
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
      zip.setMethod(method);
      put(zip, "archive/data.pkl", pickle, stored);
      put(zip, "archive/byteorder", ascii("little"), stored);
      for (Map.Entry<String, byte[]> e : data.entrySet()) {
        put(zip, "archive/data/" + e.getKey(), e.getValue(), stored);
      }
      put(zip, "archive/.data/version", ascii("3\n"), stored);
      put(zip, "archive/.data/serialization_id", ascii("1234"), stored);
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static void put(ZipOutputStream zip, String name, byte[] bytes, boolean stored) throws Exception {
    ZipEntry e = new ZipEntry(name);
    if (stored) {
      CRC32 crc = new CRC32();
      crc.update(bytes);
      e.setSize(bytes.length);
      e.setCompressedSize(bytes.length);
      e.setCrc(crc.getValue());
    }
    zip.putNextEntry(e);
    zip.write(bytes);
    zip.closeEntry();
  }

  private static byte[] floats(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  @Test
  void torch2FormsAndDeflatedEntries() throws Exception {
    Pickle p = new Pickle().op(0x80, 4, '}', '(');
    // 'a': _rebuild_tensor_v3(untyped storage of 16 bytes, offset 1, (3,), (1,), False, OrderedDict(), float32)
    p.str("a").global("torch._utils", "_rebuild_tensor_v3").op('(')
        .storage("UntypedStorage", "0", 16).integer(1).integer(3).op(0x85).integer(1).op(0x85, 0x89)
        .orderedDict().global("torch", "float32").op('t', 'R');
    // 'p': _rebuild_parameter_with_state(_rebuild_tensor_v2(..., metadata={}), True, OrderedDict(), {'x': 1})
    p.str("p").global("torch._utils", "_rebuild_parameter_with_state").op('(')
        .global("torch._utils", "_rebuild_tensor_v2").op('(')
        .storage("HalfStorage", "1", 2).integer(0).integer(2).op(0x85).integer(1).op(0x85, 0x89)
        .orderedDict().op('}', 't', 'R')
        .op(0x88).orderedDict().op('}').str("x").integer(1).op('s', 't', 'R');
    // 's': _rebuild_from_type_v2(_rebuild_tensor_v2, MyTensor, (storage '0' as float32, 0, (2, 2), (1, 2), ...), {})
    p.str("s").global("torch._tensor", "_rebuild_from_type_v2").op('(')
        .global("torch._utils", "_rebuild_tensor_v2").global("__main__", "MyTensor").op('(')
        .storage("FloatStorage", "0", 4).integer(0).integer(2).integer(2).op(0x86).integer(1).integer(2).op(0x86)
        .op(0x89).orderedDict().op('t').op('}', 't', 'R');
    // 'q': a quantized tensor, which this reader does not rebuild: it stays opaque and is not a state dict entry.
    p.str("q").global("torch._utils", "_rebuild_qtensor").op(')', 'R');
    p.op('u', '.');

    ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    half.putShort(HalfFloat.floatToHalf(1.5f)).putShort(HalfFloat.floatToHalf(-3f));
    Path file = tmp.resolve("torch2.pt");
    write(file, p.out.toByteArray(), Map.of("0", floats(10, 11, 12, 13), "1", half.array()), ZipEntry.DEFLATED);

    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      assertEquals("archive", ckpt.archiveName());
      assertEquals("3", ckpt.formatVersion());
      StateDict sd = ckpt.stateDict();
      assertEquals(Map.of("q", "OpaqueObject <skipped torch._utils._rebuild_qtensor>"), sd.skipped());
      assertArrayEquals(new float[] {11, 12, 13}, sd.get("a").toFloats());
      assertEquals(DType.F32, sd.get("a").dtype());
      TorchTensor param = sd.get("p");
      assertTrue(param.isParameter());
      assertTrue(param.requiresGrad());
      assertArrayEquals(new float[] {1.5f, -3f}, param.toFloats());
      assertArrayEquals(new float[] {10, 12, 11, 13}, sd.get("s").toFloats(), "column-major view, read row-major");
    }
  }

  @Test
  void unknownDtypeInV3IsNamed() throws Exception {
    Pickle p = new Pickle().op(0x80, 2, '}', '(');
    p.str("f8").global("torch._utils", "_rebuild_tensor_v3").op('(')
        .storage("UntypedStorage", "0", 4).integer(0).integer(4).op(0x85).integer(1).op(0x85, 0x89)
        .orderedDict().global("torch", "float8_e4m3fn").op('t', 'R');
    p.op('u', '.');
    Path file = tmp.resolve("f8.pt");
    write(file, p.out.toByteArray(), Map.of("0", new byte[4]), ZipEntry.STORED);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      TorchTensor t = (TorchTensor) ((Map<?, ?>) ckpt.root()).get("f8");
      assertNull(t.dtype());
      assertEquals("float8_e4m3fn", t.torchType());
      String message = assertThrows(CheckpointException.class, ckpt::stateDict).getMessage();
      assertTrue(message.contains("f8.pt: 1 unreadable tensor: tensor 'f8': unsupported dtype float8_e4m3fn"),
          message);
    }
  }

  @Test
  void absurdSizesAreRefusedBeforeAnythingIsAllocated() throws Exception {
    Pickle p = new Pickle().op(0x80, 2, '}', '(');
    // shape (2^40, 2^40): LONG1 with 6 little-endian bytes.
    p.str("w").global("torch._utils", "_rebuild_tensor_v2").op('(').storage("FloatStorage", "0", 1).integer(0)
        .op(0x8a, 6, 0, 0, 0, 0, 0, 1).op(0x8a, 6, 0, 0, 0, 0, 0, 1).op(0x86).integer(1).integer(1).op(0x86, 0x89)
        .orderedDict().op('t', 'R');
    p.op('u', '.');
    Path file = tmp.resolve("huge.pt");
    write(file, p.out.toByteArray(), Map.of("0", new byte[4]), ZipEntry.STORED);
    String message = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file)).getMessage();
    assertTrue(message.contains("huge.pt: data.pkl: a tensor's size [1099511627776, 1099511627776]"), message);
    assertTrue(message.contains("overflow 64 bits"), message);
  }

  @Test
  void malformedPickleSaysWhere() throws Exception {
    Path file = tmp.resolve("cut.pt");
    // A dict, a MARK, a key and then the pickle simply ends.
    write(file, new Pickle().op(0x80, 2, '}', '(').str("a").out.toByteArray(), Map.of(), ZipEntry.STORED);
    String message = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file)).getMessage();
    assertTrue(message.contains("cut.pt: data.pkl is not a valid pickle at byte 7: it ends without a STOP opcode"),
        message);
  }
}
