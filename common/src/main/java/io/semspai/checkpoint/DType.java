package io.semspai.checkpoint;

import java.util.Optional;

/** The tensor element types this reader understands, with PyTorch's names for them. */
public enum DType {
  F64(8, true, "float64", "DoubleStorage"),
  F32(4, true, "float32", "FloatStorage"),
  F16(2, true, "float16", "HalfStorage"),
  BF16(2, true, "bfloat16", "BFloat16Storage"),
  I64(8, false, "int64", "LongStorage"),
  I32(4, false, "int32", "IntStorage"),
  I16(2, false, "int16", "ShortStorage"),
  I8(1, false, "int8", "CharStorage"),
  U8(1, false, "uint8", "ByteStorage"),
  BOOL(1, false, "bool", "BoolStorage");

  private final int itemSize;
  private final boolean floating;
  private final String torchName;
  private final String storageClass;

  DType(int itemSize, boolean floating, String torchName, String storageClass) {
    this.itemSize = itemSize;
    this.floating = floating;
    this.torchName = torchName;
    this.storageClass = storageClass;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  /** True for F64, F32, F16 and BF16: read them with {@link TorchTensor#toFloats()}. */
  public boolean isFloating() {
    return floating;
  }

  /** PyTorch's name, e.g. {@code float16}. */
  public String torchName() {
    return torchName;
  }

  /** The legacy storage class {@code torch.save} names in its persistent ids, e.g. {@code HalfStorage}. */
  public String storageClass() {
    return storageClass;
  }

  /** Maps a {@code torch.<Name>Storage} class name to its element type. */
  static Optional<DType> ofStorageClass(String name) {
    for (DType t : values()) {
      if (t.storageClass.equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** Maps a {@code torch.<dtype>} attribute name, aliases included ({@code half}, {@code long}), to an element type. */
  static Optional<DType> ofTorchName(String name) {
    switch (name) {
      case "float64": case "double": return Optional.of(F64);
      case "float32": case "float": return Optional.of(F32);
      case "float16": case "half": return Optional.of(F16);
      case "bfloat16": return Optional.of(BF16);
      case "int64": case "long": return Optional.of(I64);
      case "int32": case "int": return Optional.of(I32);
      case "int16": case "short": return Optional.of(I16);
      case "int8": return Optional.of(I8);
      case "uint8": return Optional.of(U8);
      case "bool": return Optional.of(BOOL);
      default: return Optional.empty();
    }
  }
}
