package io.semspai.checkpoint;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes checkpoints in {@code torch.save}'s zip format, so tests and tools can build full-size checkpoints under
 * upstream key names without Python, and real PyTorch can {@code torch.load} them.
 *
 * <p>Tensors are written as they are added, each into its own stored (uncompressed) entry {@code <top>/data/<n>}
 * with its data aligned to 64 bytes as torch does; the caller may drop each array once added, so writing a large
 * checkpoint needs one tensor in memory at a time. {@link #finish(Object)} then writes the pickle
 * ({@code data.pkl}, protocol 2, the way {@code torch.save} spells tensors) and the {@code version} and
 * {@code byteorder} records. A writer closed without {@code finish} deletes its partial file.
 *
 * <pre>{@code
 * try (TorchCheckpointWriter w = TorchCheckpointWriter.create(path)) {
 *   Map<String, Object> model = new LinkedHashMap<>();
 *   model.put("head.weight", w.tensor(DType.F32, new long[] {1, 4}, weights));
 *   w.finish(Map.of("model", TorchCheckpointWriter.orderedDict(model), "epoch", 3));
 * }
 * }</pre>
 *
 * <p>Values {@code finish} accepts: {@link Map} (a dict, in iteration order), {@link OrderedDict} (a
 * {@code collections.OrderedDict}, as {@code state_dict()} returns), {@link List} (a list), {@link Tensor}s from this
 * writer, {@code String}, {@code Integer}/{@code Long}/{@code BigInteger}, {@code Float}/{@code Double},
 * {@code Boolean} and {@code null}.
 */
public final class TorchCheckpointWriter implements AutoCloseable {
  private static final int ALIGN = 64;
  private static final int BATCH = 1000;
  /** DOS timestamps start in 1980; a fixed one keeps output byte-identical for identical input. */
  private static final long FIXED_TIME = 315964800000L + 86_400_000L;

  /** A tensor already written to the archive, to be placed in the object passed to {@link #finish(Object)}. */
  public static final class Tensor {
    private final String storageKey;
    private final DType dtype;
    private final long[] shape;

    private Tensor(String storageKey, DType dtype, long[] shape) {
      this.storageKey = storageKey;
      this.dtype = dtype;
      this.shape = shape;
    }

    public DType dtype() {
      return dtype;
    }

    public long[] shape() {
      return shape.clone();
    }
  }

  /** Marks a map to be written as a {@code collections.OrderedDict}, the type {@code state_dict()} returns. */
  public record OrderedDict(Map<String, ?> items) {}

  public static OrderedDict orderedDict(Map<String, ?> items) {
    return new OrderedDict(items);
  }

  private final Path file;
  private final String top;
  private final CountingStream counter;
  private final ZipOutputStream zip;
  private final ByteOrder order;
  private int nextKey;
  private boolean finished;

  private TorchCheckpointWriter(Path file, String top, ByteOrder order) throws IOException {
    this.file = file;
    this.top = top;
    this.order = order;
    this.counter = new CountingStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
    this.zip = new ZipOutputStream(counter);
  }

  /** A writer whose archive folder is the file's stem, as {@code torch.save(obj, "spai.pth")} names it {@code spai}. */
  public static TorchCheckpointWriter create(Path file) throws IOException {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return new TorchCheckpointWriter(file, dot > 0 ? name.substring(0, dot) : name, ByteOrder.LITTLE_ENDIAN);
  }

  /** Test hook: a big-endian file, as torch 2.1+ writes on big-endian machines (with a {@code byteorder} record). */
  static TorchCheckpointWriter createBigEndian(Path file, String top) throws IOException {
    return new TorchCheckpointWriter(file, top, ByteOrder.BIG_ENDIAN);
  }

  /**
   * Writes a floating tensor (F32, F16, BF16 or F64) now; {@code data} is in row-major order and is narrowed to
   * F16/BF16 with round-to-nearest-even, as torch's {@code .half()}/{@code .bfloat16()} do.
   */
  public Tensor tensor(DType dtype, long[] shape, float[] data) throws IOException {
    if (!dtype.isFloating()) {
      throw new IllegalArgumentException(dtype + " is not a floating dtype; pass long[] data");
    }
    checkCount(shape, data.length);
    return write(dtype, shape, data.length, (buf, from, n) -> {
      for (int i = from; i < from + n; i++) {
        switch (dtype) {
          case F32 -> buf.putFloat(data[i]);
          case F16 -> buf.putShort(HalfFloat.floatToHalf(data[i]));
          case BF16 -> buf.putShort(HalfFloat.floatToBf16(data[i]));
          case F64 -> buf.putDouble(data[i]);
          default -> throw new IllegalStateException();
        }
      }
    });
  }

  /** Writes an integer or bool tensor (I64, I32, I16, I8, U8, BOOL) now; values must fit the dtype. */
  public Tensor tensor(DType dtype, long[] shape, long[] data) throws IOException {
    if (dtype.isFloating()) {
      throw new IllegalArgumentException(dtype + " is a floating dtype; pass float[] data");
    }
    checkCount(shape, data.length);
    for (long v : data) {
      boolean fits = switch (dtype) {
        case I64 -> true;
        case I32 -> v == (int) v;
        case I16 -> v == (short) v;
        case I8 -> v == (byte) v;
        case U8 -> v >= 0 && v <= 255;
        case BOOL -> v == 0 || v == 1;
        default -> false;
      };
      if (!fits) {
        throw new IllegalArgumentException(v + " does not fit " + dtype);
      }
    }
    return write(dtype, shape, data.length, (buf, from, n) -> {
      for (int i = from; i < from + n; i++) {
        switch (dtype) {
          case I64 -> buf.putLong(data[i]);
          case I32 -> buf.putInt((int) data[i]);
          case I16 -> buf.putShort((short) data[i]);
          default -> buf.put((byte) data[i]);
        }
      }
    });
  }

  /** Writes {@code data.pkl} for {@code root} and the format records, and completes the file. */
  public void finish(Object root) throws IOException {
    if (finished) {
      throw new IllegalStateException("already finished");
    }
    PickleOut p = new PickleOut();
    p.proto();
    p.value(root);
    p.stop();
    writeEntry("data.pkl", p.bytes());
    writeEntry("byteorder", (order == ByteOrder.BIG_ENDIAN ? "big" : "little").getBytes(StandardCharsets.US_ASCII));
    writeEntry("version", "3\n".getBytes(StandardCharsets.US_ASCII));
    zip.finish();
    zip.close();
    finished = true;
  }

  /** Completes nothing: if {@link #finish(Object)} was not called, the partial file is deleted. */
  @Override
  public void close() throws IOException {
    if (!finished) {
      finished = true;
      try {
        zip.close();
      } finally {
        Files.deleteIfExists(file);
      }
    }
  }

  // ---- zip

  private interface Encoder {
    void encode(ByteBuffer buf, int from, int count);
  }

  private static void checkCount(long[] shape, int length) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n *= d;
    }
    if (n != length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " elements, data has "
          + length);
    }
  }

  private Tensor write(DType dtype, long[] shape, int count, Encoder encoder) throws IOException {
    if (finished) {
      throw new IllegalStateException("already finished");
    }
    String key = Integer.toString(nextKey++);
    int item = dtype.itemSize();
    int per = TorchCheckpoint.CHUNK / item;
    ByteBuffer buf = ByteBuffer.allocate(Math.min(per, Math.max(count, 1)) * item).order(order);
    // STORED entries need their CRC before their data: one pass to checksum, one to write, no full byte copy.
    CRC32 crc = new CRC32();
    for (int from = 0; from < count; from += per) {
      int n = Math.min(per, count - from);
      buf.clear();
      encoder.encode(buf, from, n);
      crc.update(buf.array(), 0, n * item);
    }
    ZipEntry entry = storedEntry(top + "/data/" + key, (long) count * item, crc.getValue());
    zip.putNextEntry(entry);
    for (int from = 0; from < count; from += per) {
      int n = Math.min(per, count - from);
      buf.clear();
      encoder.encode(buf, from, n);
      zip.write(buf.array(), 0, n * item);
    }
    zip.closeEntry();
    return new Tensor(key, dtype, shape.clone());
  }

  private void writeEntry(String name, byte[] data) throws IOException {
    CRC32 crc = new CRC32();
    crc.update(data);
    zip.putNextEntry(storedEntry(top + "/" + name, data.length, crc.getValue()));
    zip.write(data);
    zip.closeEntry();
  }

  /** A stored entry padded through an extra field (id "FB", as torch uses) so that its data starts 64-aligned. */
  private ZipEntry storedEntry(String name, long size, long crc) {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(size);
    e.setCompressedSize(size);
    e.setCrc(crc);
    e.setTime(FIXED_TIME);
    int nameLen = name.getBytes(StandardCharsets.UTF_8).length;
    long dataStart = counter.count + 30 + nameLen + 4;
    int pad = (int) ((ALIGN - dataStart % ALIGN) % ALIGN);
    byte[] extra = new byte[4 + pad];
    extra[0] = 'F';
    extra[1] = 'B';
    extra[2] = (byte) pad;
    extra[3] = (byte) (pad >>> 8);
    e.setExtra(extra);
    return e;
  }

  private static final class CountingStream extends FilterOutputStream {
    long count;

    CountingStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }

  // ---- pickle

  /** Protocol 2 pickle output, spelling tensors the way torch.save does; no memo, which unpicklers allow. */
  private final class PickleOut {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    void proto() {
      out.write(0x80);
      out.write(2);
    }

    void stop() {
      out.write('.');
    }

    byte[] bytes() {
      return out.toByteArray();
    }

    void value(Object v) {
      if (v == null) {
        out.write('N');
      } else if (v instanceof Boolean) {
        out.write((Boolean) v ? 0x88 : 0x89);
      } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
        integer(((Number) v).longValue());
      } else if (v instanceof BigInteger) {
        long1((BigInteger) v);
      } else if (v instanceof Float || v instanceof Double) {
        out.write('G');
        long bits = Double.doubleToRawLongBits(((Number) v).doubleValue());
        for (int i = 7; i >= 0; i--) {
          out.write((int) (bits >>> (8 * i)));
        }
      } else if (v instanceof String) {
        string((String) v);
      } else if (v instanceof Tensor) {
        tensor((Tensor) v);
      } else if (v instanceof OrderedDict) {
        global("collections", "OrderedDict");
        out.write(')');
        out.write('R');
        items(((OrderedDict) v).items());
      } else if (v instanceof Map) {
        out.write('}');
        items((Map<?, ?>) v);
      } else if (v instanceof List) {
        out.write(']');
        List<?> list = (List<?>) v;
        for (int i = 0; i < list.size(); i += BATCH) {
          out.write('(');
          for (Object item : list.subList(i, Math.min(list.size(), i + BATCH))) {
            value(item);
          }
          out.write('e');
        }
      } else {
        throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " into a checkpoint");
      }
    }

    private void items(Map<?, ?> map) {
      List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
      for (int i = 0; i < entries.size(); i += BATCH) {
        out.write('(');
        for (Map.Entry<?, ?> e : entries.subList(i, Math.min(entries.size(), i + BATCH))) {
          value(Objects.requireNonNull(e.getKey(), "null dict key"));
          value(e.getValue());
        }
        out.write('u');
      }
    }

    /** {@code _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())}. */
    private void tensor(Tensor t) {
      global("torch._utils", "_rebuild_tensor_v2");
      out.write('(');
      out.write('(');
      string("storage");
      global("torch", t.dtype.storageClass());
      string(t.storageKey);
      string("cpu");
      long numel = 1;
      for (long d : t.shape) {
        numel *= d;
      }
      integer(numel);
      out.write('t');
      out.write('Q');
      integer(0);
      tuple(t.shape);
      long[] stride = new long[t.shape.length];
      long s = 1;
      for (int i = stride.length - 1; i >= 0; i--) {
        stride[i] = s;
        s *= Math.max(t.shape[i], 1);
      }
      tuple(stride);
      out.write(0x89);
      global("collections", "OrderedDict");
      out.write(')');
      out.write('R');
      out.write('t');
      out.write('R');
    }

    private void tuple(long[] values) {
      if (values.length == 0) {
        out.write(')');
        return;
      }
      out.write('(');
      for (long v : values) {
        integer(v);
      }
      out.write('t');
    }

    private void global(String module, String name) {
      out.write('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private void string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.write('X');
      int32(b.length);
      out.writeBytes(b);
    }

    private void integer(long v) {
      if (v >= 0 && v < 0x100) {
        out.write('K');
        out.write((int) v);
      } else if (v >= 0 && v < 0x10000) {
        out.write('M');
        out.write((int) v);
        out.write((int) (v >>> 8));
      } else if (v == (int) v) {
        out.write('J');
        int32((int) v);
      } else {
        long1(BigInteger.valueOf(v));
      }
    }

    /** LONG1: little-endian two's complement, as short as the value allows. */
    private void long1(BigInteger v) {
      byte[] be = v.toByteArray();
      if (be.length > 255) {
        throw new IllegalArgumentException("integer too large to write: " + v);
      }
      out.write(0x8a);
      out.write(be.length);
      for (int i = be.length - 1; i >= 0; i--) {
        out.write(be[i]);
      }
    }

    private void int32(int v) {
      out.write(v);
      out.write(v >>> 8);
      out.write(v >>> 16);
      out.write(v >>> 24);
    }
  }
}
