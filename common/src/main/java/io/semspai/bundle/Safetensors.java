package io.semspai.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header mapping
 * each tensor name to {@code dtype}, {@code shape} and {@code data_offsets} (relative to the end of the header),
 * optional string {@code __metadata__}, then the raw little-endian data. Reads F32, F16, BF16 and I64 (half
 * precision widened to float exactly); writes F32 and I64, streamed tensor by tensor so a 500 MB file never sits
 * in the heap.
 */
public final class Safetensors {
  private Safetensors() {}

  /** Largest header accepted; the format's reference implementation uses the same 100 MB cap. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  public enum DType {
    F32(4),
    F16(2),
    BF16(2),
    I64(8);

    private final int bytes;

    DType(int bytes) {
      this.bytes = bytes;
    }

    public int bytes() {
      return bytes;
    }

    public boolean isFloating() {
      return this != I64;
    }
  }

  /** One tensor's entry; {@code begin} and {@code end} are byte offsets into the data section. */
  public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }

    public long byteLength() {
      return end - begin;
    }

    public String shapeString() {
      return Arrays.toString(shape).replace('[', '(').replace(']', ')');
    }
  }

  /** A parsed header: tensors in data order, metadata, and where the data starts in the file. */
  public record Header(List<TensorInfo> tensors, Map<String, String> metadata, long dataStart, long dataLength) {
    public Header {
      tensors = List.copyOf(tensors);
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    public long fileLength() {
      return dataStart + dataLength;
    }

    public Map<String, TensorInfo> byName() {
      Map<String, TensorInfo> out = new LinkedHashMap<>();
      for (TensorInfo t : tensors) {
        out.put(t.name(), t);
      }
      return out;
    }
  }

  /** Thrown when a file is not valid safetensors; the message says what is wrong. */
  public static final class FormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public FormatException(String message) {
      super(message);
    }
  }

  // ---------------------------------------------------------------- reading

  /** Reads and validates the header of {@code file}, including that the file is exactly as long as it says. */
  public static Header readHeader(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = readHeader(ch, null);
      if (ch.size() != h.fileLength()) {
        throw sizeMismatch(ch.size(), h.fileLength());
      }
      return h;
    }
  }

  private static FormatException sizeMismatch(long actual, long expected) {
    return new FormatException(actual < expected
        ? "truncated: the header describes " + expected + " bytes, the file has " + actual
        : "trailing bytes: the header describes " + expected + " bytes, the file has " + actual);
  }

  private static Header readHeader(FileChannel ch, MessageDigest digest) throws IOException {
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, len, "the 8-byte header length");
    len.flip();
    if (digest != null) {
      digest.update(len.duplicate());
    }
    long n = len.getLong();
    if (n <= 1 || n > MAX_HEADER_BYTES) {
      throw new FormatException("not a safetensors file: header length " + n + " is out of range");
    }
    ByteBuffer json = ByteBuffer.allocate((int) n);
    readFully(ch, json, "the " + n + "-byte header");
    json.flip();
    if (digest != null) {
      digest.update(json.duplicate());
    }
    JsonNode root;
    try {
      root = JSON.readTree(StandardCharsets.UTF_8.decode(json).toString());
    } catch (IOException e) {
      String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
          : e.getMessage();
      throw new FormatException("not a safetensors file: the header is not JSON (" + why + ")");
    }
    if (root == null || !root.isObject()) {
      throw new FormatException("not a safetensors file: the header is not a JSON object");
    }
    List<TensorInfo> tensors = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (e.getKey().equals("__metadata__")) {
        e.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      tensors.add(parseEntry(e.getKey(), e.getValue()));
    }
    tensors.sort(Comparator.comparingLong(TensorInfo::begin));
    long expect = 0;
    for (TensorInfo t : tensors) {
      if (t.begin() != expect) {
        throw new FormatException("tensor " + t.name() + " starts at byte " + t.begin() + ", expected " + expect
            + " (overlapping or gapped data)");
      }
      expect = t.end();
    }
    return new Header(tensors, metadata, 8 + n, expect);
  }

  private static TensorInfo parseEntry(String name, JsonNode node) throws FormatException {
    JsonNode dt = node.get("dtype");
    JsonNode shape = node.get("shape");
    JsonNode offsets = node.get("data_offsets");
    if (dt == null || shape == null || !shape.isArray() || offsets == null || offsets.size() != 2) {
      throw new FormatException("tensor " + name + ": header entry lacks dtype, shape or data_offsets");
    }
    DType dtype;
    try {
      dtype = DType.valueOf(dt.asText());
    } catch (IllegalArgumentException e) {
      throw new FormatException("tensor " + name + ": unsupported dtype " + dt.asText() + " (F32, F16, BF16, I64)");
    }
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).asLong(-1);
      if (dims[i] < 0) {
        throw new FormatException("tensor " + name + ": bad shape " + shape);
      }
    }
    TensorInfo t = new TensorInfo(name, dtype, dims, offsets.get(0).asLong(-1), offsets.get(1).asLong(-1));
    if (t.begin() < 0 || t.end() < t.begin() || t.byteLength() != t.elements() * dtype.bytes()) {
      throw new FormatException("tensor " + name + ": data_offsets " + offsets + " do not fit " + dtype + " "
          + t.shapeString());
    }
    return t;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, String what) throws IOException {
    while (buf.hasRemaining()) {
      if (ch.read(buf) < 0) {
        throw new FormatException("truncated: the file ends inside " + what);
      }
    }
  }

  /** Receives each tensor of a streamed read, in data order; {@code data} is little-endian and read-only. */
  @FunctionalInterface
  public interface TensorVisitor {
    void visit(TensorInfo info, ByteBuffer data) throws IOException;
  }

  /**
   * Reads the whole file once, front to back, feeding every byte to {@code digest} (may be null) and each tensor
   * whose name {@code wanted} accepts to {@code visitor} as a direct buffer that the visitor may keep. Tensors
   * not wanted are read (for the digest) into a scratch buffer and dropped.
   */
  public static Header stream(
      Path file, MessageDigest digest, java.util.function.Predicate<String> wanted, TensorVisitor visitor)
      throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = readHeader(ch, digest);
      if (ch.size() != h.fileLength()) {
        throw sizeMismatch(ch.size(), h.fileLength());
      }
      ByteBuffer scratch = ByteBuffer.allocateDirect(1 << 20);
      for (TensorInfo t : h.tensors()) {
        if (wanted.test(t.name())) {
          if (t.byteLength() > Integer.MAX_VALUE) {
            throw new FormatException("tensor " + t.name() + " is larger than 2 GiB");
          }
          ByteBuffer buf = ByteBuffer.allocateDirect((int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
          readFully(ch, buf, "tensor " + t.name());
          buf.flip();
          if (digest != null) {
            digest.update(buf.duplicate());
          }
          visitor.visit(t, buf);
        } else {
          long left = t.byteLength();
          while (left > 0) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), left));
            readFully(ch, scratch, "tensor " + t.name());
            scratch.flip();
            if (digest != null) {
              digest.update(scratch);
            }
            left -= scratch.limit();
          }
        }
      }
      return h;
    }
  }

  /** Reads all tensors as float arrays (I64 converted), keyed by name: for tests and small files. */
  public static Map<String, float[]> readAllFloats(Path file) throws IOException {
    Map<String, float[]> out = new LinkedHashMap<>();
    stream(file, null, name -> true, (info, data) -> out.put(info.name(), toFloats(info, data)));
    return out;
  }

  /** Widens a tensor's little-endian data to float32 (exact for F16 and BF16; I64 as {@code (float) v}). */
  public static float[] toFloats(TensorInfo info, ByteBuffer data) {
    ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = Math.toIntExact(info.elements());
    float[] out = new float[n];
    switch (info.dtype()) {
      case F32 -> b.asFloatBuffer().get(out);
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = halfToFloat(b.getShort(2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xFFFF) << 16);
        }
      }
      case I64 -> {
        for (int i = 0; i < n; i++) {
          out[i] = (float) b.getLong(8 * i);
        }
      }
      default -> throw new IllegalStateException();
    }
    return out;
  }

  /** Reads an integer tensor as longs (floating values must be integral). */
  public static long[] toLongs(TensorInfo info, ByteBuffer data) throws FormatException {
    int n = Math.toIntExact(info.elements());
    long[] out = new long[n];
    if (info.dtype() == DType.I64) {
      data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
      return out;
    }
    float[] f = toFloats(info, data);
    for (int i = 0; i < n; i++) {
      if (f[i] != Math.rint(f[i])) {
        throw new FormatException("tensor " + info.name() + " should hold integers, found " + f[i]);
      }
      out[i] = (long) f[i];
    }
    return out;
  }

  /** IEEE 754 binary16 → float, exact (subnormals, infinities and NaN included). */
  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f; // subnormal: mant · 2^-24
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  // ---------------------------------------------------------------- writing

  /** A tensor to be written: its name, dtype (F32 or I64) and shape. */
  public record TensorSpec(String name, DType dtype, long[] shape) {
    public TensorSpec {
      if (dtype != DType.F32 && dtype != DType.I64) {
        throw new IllegalArgumentException("the writer supports F32 and I64, not " + dtype);
      }
    }

    long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  /**
   * Streams a safetensors file: the header is written first from the declared specs, then each tensor's data in
   * declaration order. {@link #close()} fails if a declared tensor was never written, so a short file cannot pass
   * as complete; callers write to a temporary name and rename.
   */
  public static final class Writer implements Closeable {
    private final FileChannel ch;
    private final List<TensorSpec> specs;
    private final MessageDigest digest;
    private int next;
    private boolean failed;

    public Writer(Path file, List<TensorSpec> specs, Map<String, String> metadata) throws IOException {
      this.specs = List.copyOf(specs);
      this.digest = sha256();
      ObjectNode root = JSON.createObjectNode();
      if (metadata != null && !metadata.isEmpty()) {
        ObjectNode meta = root.putObject("__metadata__");
        metadata.forEach(meta::put);
      }
      long offset = 0;
      for (TensorSpec s : this.specs) {
        if (s.name().equals("__metadata__") || root.has(s.name())) {
          throw new IllegalArgumentException("duplicate or reserved tensor name " + s.name());
        }
        ObjectNode e = root.putObject(s.name());
        e.put("dtype", s.dtype().name());
        var shape = e.putArray("shape");
        for (long d : s.shape()) {
          shape.add(d);
        }
        long end = offset + s.elements() * s.dtype().bytes();
        e.putArray("data_offsets").add(offset).add(end);
        offset = end;
      }
      byte[] json = JSON.writeValueAsBytes(root);
      int padded = (json.length + 7) / 8 * 8; // data starts 8-byte aligned; the format pads with spaces
      ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
      head.putLong(padded).put(json);
      while (head.hasRemaining()) {
        head.put((byte) ' ');
      }
      head.flip();
      this.ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      write(head);
    }

    public void writeFloats(String name, float[] data) throws IOException {
      TensorSpec s = expect(name, DType.F32, data.length);
      ByteBuffer buf = ByteBuffer.allocate(Math.min(data.length, 1 << 18) * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < data.length; ) {
        buf.clear();
        int n = Math.min(data.length - i, buf.capacity() / 4);
        buf.asFloatBuffer().put(data, i, n);
        buf.limit(n * 4);
        write(buf);
        i += n;
      }
      done(s);
    }

    public void writeLongs(String name, long[] data) throws IOException {
      TensorSpec s = expect(name, DType.I64, data.length);
      ByteBuffer buf = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      buf.asLongBuffer().put(data);
      write(buf);
      done(s);
    }

    private TensorSpec expect(String name, DType dtype, long length) {
      if (next >= specs.size()) {
        failed = true;
        throw new IllegalStateException("tensor " + name + " was not declared");
      }
      TensorSpec s = specs.get(next);
      if (!s.name().equals(name) || s.dtype() != dtype || s.elements() != length) {
        failed = true;
        throw new IllegalStateException("expected tensor " + s.name() + " (" + s.dtype() + ", " + s.elements()
            + " values) next, got " + name + " (" + dtype + ", " + length + " values)");
      }
      return s;
    }

    private void done(TensorSpec s) {
      next++;
    }

    private void write(ByteBuffer buf) throws IOException {
      digest.update(buf.duplicate());
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
    }

    /** The sha256 of everything written; valid after all tensors are written. */
    public String sha256Hex() {
      return java.util.HexFormat.of().formatHex(((MessageDigest) cloneDigest()).digest());
    }

    private Object cloneDigest() {
      try {
        return digest.clone();
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
    }

    public long bytesWritten() throws IOException {
      return ch.position();
    }

    @Override
    public void close() throws IOException {
      try {
        if (!failed && next != specs.size()) {
          throw new IOException("safetensors writer closed after " + next + " of " + specs.size()
              + " tensors; the next missing one is " + specs.get(next).name());
        }
        if (!failed) {
          ch.force(true);
        }
      } finally {
        ch.close();
      }
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** Hex sha256 of a whole file, streamed. */
  public static String sha256Hex(Path file) throws IOException {
    MessageDigest d = sha256();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
      while (ch.read(buf) >= 0) {
        buf.flip();
        d.update(buf);
        buf.clear();
      }
    }
    return java.util.HexFormat.of().formatHex(d.digest());
  }
}
