package io.semspai.checkpoint;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: its metadata, read from the pickle, and its data, read from the archive only when
 * asked for (one {@code to…()} call streams just this tensor's bytes and converts them). Holding a TorchTensor
 * holds no tensor data.
 *
 * <p>Reads follow the storage offset, shape and strides, so views into a shared storage and non-contiguous tensors
 * (a transpose, an expand) come back in logical row-major order, as {@code tensor.contiguous().flatten()} would.
 */
public final class TorchTensor {
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  private final TorchCheckpoint owner;
  private final StorageRef storage;
  private final DType dtype;
  private final String torchType;
  private final long offset;
  private final long[] shape;
  private final long[] stride;
  private final boolean requiresGrad;
  private final boolean parameter;
  private final String key;
  private final String dictName;

  TorchTensor(TorchCheckpoint owner, StorageRef storage, DType dtype, String torchType, long offset, long[] shape,
      long[] stride, boolean requiresGrad, boolean parameter, String key, String dictName) {
    this.owner = owner;
    this.storage = storage;
    this.dtype = dtype;
    this.torchType = torchType;
    this.offset = offset;
    this.shape = shape;
    this.stride = stride;
    this.requiresGrad = requiresGrad;
    this.parameter = parameter;
    this.key = key;
    this.dictName = dictName;
  }

  TorchTensor asParameter(boolean requiresGrad) {
    return new TorchTensor(owner, storage, dtype, torchType, offset, shape, stride, requiresGrad, true, key,
        dictName);
  }

  TorchTensor withKey(String key, String dictName) {
    return new TorchTensor(owner, storage, dtype, torchType, offset, shape, stride, requiresGrad, parameter, key,
        dictName);
  }

  /**
   * Its key in the state dict it was taken from; {@code null} for a tensor reached through
   * {@link TorchCheckpoint#root()}.
   */
  public String key() {
    return key;
  }

  /**
   * Its element type, or {@code null} for one this reader cannot convert (complex, quantized, float8…); a
   * {@link StateDict} never holds such a tensor, it refuses to open instead.
   */
  public DType dtype() {
    return dtype;
  }

  /** Torch's name for the element type, supported or not, e.g. {@code float16} or {@code ComplexFloatStorage}. */
  public String torchType() {
    return torchType;
  }

  public long[] shape() {
    return shape.clone();
  }

  /** Strides in elements, as {@code tensor.stride()}. */
  public long[] stride() {
    return stride.clone();
  }

  /** Offset of its first element in its storage, in elements, as {@code tensor.storage_offset()}. */
  public long storageOffset() {
    return offset;
  }

  /** The storage's name in the archive ({@code data/<key>}); views share it. */
  public String storageKey() {
    return storage.key();
  }

  public int rank() {
    return shape.length;
  }

  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** Bytes of data this tensor's elements take (not counting the rest of a shared storage). */
  public long byteSize() {
    return numel() * (dtype == null ? 0 : dtype.itemSize());
  }

  /** Saved as an {@code nn.Parameter} rather than a plain tensor. */
  public boolean isParameter() {
    return parameter;
  }

  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** True when its elements lie in row-major order without gaps, so it is read as one run of bytes. */
  public boolean isContiguous() {
    long expected = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] == 0) {
        return true;
      }
      if (shape[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= shape[i];
    }
    return true;
  }

  /** Elements of float64, float32, float16 or bfloat16 as float32; fp16 and bf16 widen exactly. */
  public float[] toFloats() throws CheckpointException {
    requireKind(true, "toFloats");
    float[] out = new float[checkedNumel()];
    read(out.length, (buf, at, n) -> decodeFloats(buf, out, at, n), spanLen -> {
      float[] all = new float[spanLen];
      return new Gather() {
        @Override
        public void decode(ByteBuffer buf, int at, int n) {
          decodeFloats(buf, all, at, n);
        }

        @Override
        public void copy(int from, int to) {
          out[to] = all[from];
        }
      };
    });
    return out;
  }

  /** Elements of a floating tensor as float64; exact for every floating dtype. */
  public double[] toDoubles() throws CheckpointException {
    requireKind(true, "toDoubles");
    double[] out = new double[checkedNumel()];
    read(out.length, (buf, at, n) -> decodeDoubles(buf, out, at, n), spanLen -> {
      double[] all = new double[spanLen];
      return new Gather() {
        @Override
        public void decode(ByteBuffer buf, int at, int n) {
          decodeDoubles(buf, all, at, n);
        }

        @Override
        public void copy(int from, int to) {
          out[to] = all[from];
        }
      };
    });
    return out;
  }

  /** Elements of an integer or bool tensor as int64 (bool as 0 or 1; uint8 as 0..255). */
  public long[] toLongs() throws CheckpointException {
    requireKind(false, "toLongs");
    long[] out = new long[checkedNumel()];
    read(out.length, (buf, at, n) -> decodeLongs(buf, out, at, n), spanLen -> {
      long[] all = new long[spanLen];
      return new Gather() {
        @Override
        public void decode(ByteBuffer buf, int at, int n) {
          decodeLongs(buf, all, at, n);
        }

        @Override
        public void copy(int from, int to) {
          out[to] = all[from];
        }
      };
    });
    return out;
  }

  @Override
  public String toString() {
    return "TorchTensor[" + (key == null ? "" : key + " ") + (dtype == null ? torchType : dtype) + " "
        + Arrays.toString(shape) + (isContiguous() ? "" : " stride " + Arrays.toString(stride))
        + (offset == 0 ? "" : " offset " + offset) + " in " + storage.entryName() + "]";
  }

  // ---- reading

  /** Decodes {@code n} elements from {@code buf} into positions {@code at…} of a destination. */
  interface Decoder {
    void decode(ByteBuffer buf, int at, int n);
  }

  interface Gather extends Decoder {
    void copy(int from, int to);
  }

  interface GatherFactory {
    Gather create(int spanLen);
  }

  private void read(int count, Decoder contiguous, GatherFactory strided) throws CheckpointException {
    if (count == 0) {
      return;
    }
    int size = dtype.itemSize();
    if (isContiguous()) {
      owner.stream(this, offset * size, (long) count * size, size, contiguous);
      return;
    }
    long span = spanElements();
    if (span > MAX_ARRAY) {
      throw owner.problem(this, "a non-contiguous view spanning " + span + " elements is too large to read");
    }
    Gather gather = strided.create((int) span);
    owner.stream(this, offset * size, span * size, size, gather);
    // Walk the logical indices in row-major order with an odometer over the strides.
    int rank = shape.length;
    long[] index = new long[rank];
    long pos = 0;
    for (int i = 0; i < count; i++) {
      gather.copy((int) pos, i);
      for (int d = rank - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) {
          pos += stride[d];
          break;
        }
        pos -= stride[d] * (shape[d] - 1);
        index[d] = 0;
      }
    }
  }

  /** Elements from the first to the last one this tensor touches in its storage, both included. */
  long spanElements() {
    long last = 0;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] == 0) {
        return 0;
      }
      last += (shape[i] - 1) * stride[i];
    }
    return last + 1;
  }

  StorageRef storage() {
    return storage;
  }

  String dictName() {
    return dictName;
  }

  private int checkedNumel() throws CheckpointException {
    long n = numel();
    if (n > MAX_ARRAY) {
      throw owner.problem(this, n + " elements do not fit in one Java array");
    }
    return (int) n;
  }

  private void requireKind(boolean floating, String method) throws CheckpointException {
    if (dtype == null) {
      throw owner.problem(this, "unsupported dtype " + torchType + " (supported: float64, float32, float16,"
          + " bfloat16, int64, int32, int16, int8, uint8, bool)");
    }
    if (dtype.isFloating() != floating) {
      throw owner.problem(this, method + "() cannot read a " + dtype.torchName() + " tensor; use "
          + (floating ? "toLongs()" : "toFloats()"));
    }
  }

  private void decodeFloats(ByteBuffer buf, float[] out, int at, int n) {
    switch (dtype) {
      case F32:
        buf.asFloatBuffer().get(out, at, n);
        break;
      case F16:
        for (int i = 0; i < n; i++) {
          out[at + i] = HalfFloat.halfToFloat(buf.getShort(i * 2));
        }
        break;
      case BF16:
        for (int i = 0; i < n; i++) {
          out[at + i] = HalfFloat.bf16ToFloat(buf.getShort(i * 2));
        }
        break;
      case F64:
        for (int i = 0; i < n; i++) {
          out[at + i] = (float) buf.getDouble(i * 8);
        }
        break;
      default:
        throw new IllegalStateException(dtype.name());
    }
  }

  private void decodeDoubles(ByteBuffer buf, double[] out, int at, int n) {
    if (dtype == DType.F64) {
      buf.asDoubleBuffer().get(out, at, n);
      return;
    }
    for (int i = 0; i < n; i++) {
      out[at + i] = switch (dtype) {
        case F32 -> buf.getFloat(i * 4);
        case F16 -> HalfFloat.halfToFloat(buf.getShort(i * 2));
        case BF16 -> HalfFloat.bf16ToFloat(buf.getShort(i * 2));
        default -> throw new IllegalStateException(dtype.name());
      };
    }
  }

  private void decodeLongs(ByteBuffer buf, long[] out, int at, int n) {
    switch (dtype) {
      case I64:
        buf.asLongBuffer().get(out, at, n);
        break;
      case I32:
        for (int i = 0; i < n; i++) {
          out[at + i] = buf.getInt(i * 4);
        }
        break;
      case I16:
        for (int i = 0; i < n; i++) {
          out[at + i] = buf.getShort(i * 2);
        }
        break;
      case I8:
        for (int i = 0; i < n; i++) {
          out[at + i] = buf.get(i);
        }
        break;
      case U8:
        for (int i = 0; i < n; i++) {
          out[at + i] = buf.get(i) & 0xff;
        }
        break;
      case BOOL:
        for (int i = 0; i < n; i++) {
          out[at + i] = buf.get(i) != 0 ? 1 : 0;
        }
        break;
      default:
        throw new IllegalStateException(dtype.name());
    }
  }
}
