package io.semspai.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  @TempDir Path tmp;

  private Path writeSample(String name) throws IOException {
    Path f = tmp.resolve(name);
    try (Safetensors.Writer w = new Safetensors.Writer(f,
        List.of(new Safetensors.TensorSpec("a.weight", Safetensors.DType.F32, new long[] {2, 3}),
            new Safetensors.TensorSpec("mask", Safetensors.DType.I64, new long[] {2, 2}),
            new Safetensors.TensorSpec("scalar", Safetensors.DType.F32, new long[] {})),
        Map.of("format", "pt"))) {
      w.writeFloats("a.weight", new float[] {1, -2, 3.5f, 0, Float.MIN_VALUE, -0f});
      w.writeLongs("mask", new long[] {1, 0, Long.MAX_VALUE, -7});
      w.writeFloats("scalar", new float[] {42});
    }
    return f;
  }

  @Test
  void roundTripKeepsValuesShapesOrderAndMetadata() throws IOException {
    Path f = writeSample("a.safetensors");
    Safetensors.Header h = Safetensors.readHeader(f);
    assertEquals(List.of("a.weight", "mask", "scalar"), h.tensors().stream().map(Safetensors.TensorInfo::name).toList());
    assertEquals(Map.of("format", "pt"), h.metadata());
    assertEquals(0, h.dataStart() % 8, "data must start 8-byte aligned");
    assertArrayEquals(new long[] {2, 3}, h.byName().get("a.weight").shape());
    assertEquals(Files.size(f), h.fileLength());
    Map<String, float[]> all = Safetensors.readAllFloats(f);
    assertArrayEquals(new float[] {1, -2, 3.5f, 0, Float.MIN_VALUE, -0f}, all.get("a.weight"));
    assertArrayEquals(new float[] {42}, all.get("scalar"));
    long[][] mask = new long[1][];
    Safetensors.stream(f, null, "mask"::equals, (info, data) -> mask[0] = Safetensors.toLongs(info, data));
    assertArrayEquals(new long[] {1, 0, Long.MAX_VALUE, -7}, mask[0]);
    assertEquals(Safetensors.sha256Hex(f), sha256Of(Files.readAllBytes(f)));
  }

  @Test
  void writerDigestEqualsTheFileDigest() throws IOException {
    Path f = tmp.resolve("d.safetensors");
    String digest;
    try (Safetensors.Writer w = new Safetensors.Writer(f,
        List.of(new Safetensors.TensorSpec("x", Safetensors.DType.F32, new long[] {300_000})), null)) {
      w.writeFloats("x", new float[300_000]);
      digest = w.sha256Hex();
    }
    assertEquals(Safetensors.sha256Hex(f), digest);
  }

  @Test
  void writerRefusesOutOfOrderTensorsAndIncompleteFiles() throws IOException {
    Path f = tmp.resolve("b.safetensors");
    Safetensors.Writer w = new Safetensors.Writer(f,
        List.of(new Safetensors.TensorSpec("x", Safetensors.DType.F32, new long[] {2}),
            new Safetensors.TensorSpec("y", Safetensors.DType.F32, new long[] {2})), null);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.writeFloats("y", new float[2]));
    assertTrue(e.getMessage().contains("expected tensor x"), e.getMessage());
    w.close();

    Path g = tmp.resolve("c.safetensors");
    Safetensors.Writer w2 = new Safetensors.Writer(g,
        List.of(new Safetensors.TensorSpec("x", Safetensors.DType.F32, new long[] {2}),
            new Safetensors.TensorSpec("y", Safetensors.DType.F32, new long[] {2})), null);
    w2.writeFloats("x", new float[2]);
    IOException io = assertThrows(IOException.class, w2::close);
    assertTrue(io.getMessage().contains("after 1 of 2 tensors; the next missing one is y"), io.getMessage());
  }

  @Test
  void readsHalfAndBfloatExactly() throws IOException {
    // F16: 1.0 = 0x3C00, -2.5 = 0xC100, smallest subnormal 0x0001 = 2^-24, 65504 = 0x7BFF
    // BF16: 1.0 = 0x3F80, -3.0 = 0xC040
    String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
    ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    data.putShort((short) 0x3C00).putShort((short) 0xC100).putShort((short) 0x0001).putShort((short) 0x7BFF);
    data.putShort((short) 0x3F80).putShort((short) 0xC040);
    Path f = rawFile("half.safetensors", header, data.array());
    Map<String, float[]> all = Safetensors.readAllFloats(f);
    assertArrayEquals(new float[] {1f, -2.5f, 0x1p-24f, 65504f}, all.get("h"));
    assertArrayEquals(new float[] {1f, -3f}, all.get("b"));
  }

  @Test
  void truncatedFileIsNamedAsSuch() throws IOException {
    Path f = writeSample("t.safetensors");
    byte[] bytes = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 5));
    Safetensors.FormatException e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.readHeader(f));
    assertEquals("truncated: the header describes " + bytes.length + " bytes, the file has " + (bytes.length - 5),
        e.getMessage());
  }

  @Test
  void garbageIsNotSafetensors() throws IOException {
    Path f = tmp.resolve("g.bin");
    Files.write(f, "this is not a tensor file at all".getBytes(StandardCharsets.UTF_8));
    Safetensors.FormatException e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.readHeader(f));
    assertTrue(e.getMessage().startsWith("not a safetensors file: header length"), e.getMessage());
  }

  @Test
  void inconsistentOffsetsAreRefused() throws IOException {
    Path f = rawFile("o.safetensors",
        "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", new byte[12]);
    Safetensors.FormatException e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.readHeader(f));
    assertEquals("tensor x: data_offsets [0,12] do not fit F32 (2)", e.getMessage());
    Path g = rawFile("u.safetensors",
        "{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]);
    e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.readHeader(g));
    assertEquals("tensor x: unsupported dtype U8 (F32, F16, BF16, I64)", e.getMessage());
  }

  private Path rawFile(String name, String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h).put(data);
    Path f = tmp.resolve(name);
    Files.write(f, b.array());
    return f;
  }

  private static String sha256Of(byte[] bytes) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
