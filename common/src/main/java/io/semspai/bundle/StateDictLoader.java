package io.semspai.bundle;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Loads a safetensors state dict into NDArrays for a module whose keys, shapes and data types are known. One
 * sequential read both hashes the file and collects the tensors; nothing becomes an NDArray until the checksum
 * (when one is expected) and the key set have been checked, and every mismatch is reported at once.
 */
public final class StateDictLoader {
  private StateDictLoader() {}

  /** Why a file was refused; {@link #getMessage()} is the reason, without the file name. */
  public static final class Refusal extends IOException {
    private static final long serialVersionUID = 1L;

    public Refusal(String reason) {
      super(reason);
    }

    public Refusal(String reason, Throwable cause) {
      super(reason, cause);
    }
  }

  /** What a module expects: its keys with shapes and data types, and which extra keys are known to be unused. */
  public record Expectation(Map<String, Shape> shapes, Map<String, DataType> dataTypes, Predicate<String> ignored) {}

  private static final int LIST_LIMIT = 12;

  /**
   * Files above this size are loaded in two passes ({@link #loadLarge}). DJL arrays made from Java data keep the
   * direct buffer they were made from, and direct memory is capped by the JVM (by default at the max heap), so the
   * one-pass path would need as much direct memory as the file: 3.4 GB for the full ConvNeXt trunk.
   */
  static final long LARGE_FILE_BYTES = 256L << 20;

  /**
   * Reads {@code file}, checks it against {@code expectedSha256} (skipped when null) and {@code expect}, and
   * returns the arrays, created in {@code manager}. F16/BF16 are widened to float32; int64 keys are read as int64.
   */
  public static Map<String, NDArray> load(
      Path file, String expectedSha256, Expectation expect, NDManager manager) throws Refusal {
    if (!Files.isRegularFile(file)) {
      throw new Refusal("file " + file.getFileName() + " is missing");
    }
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new Refusal("cannot read " + file.getFileName() + ": " + e.getMessage(), e);
    }
    return size > LARGE_FILE_BYTES ? loadLarge(file, expectedSha256, expect, manager)
        : loadInOnePass(file, expectedSha256, expect, manager);
  }

  /**
   * The two-pass load for large files, with the same checks and refusals: the whole file is hashed first, then the
   * header's keys and shapes are checked, and only then are tensors read, one at a time, each copied into
   * libtorch-owned memory so its direct buffer can be freed before the next. Reads the file twice (from the page
   * cache, usually) and needs direct memory for about one tensor instead of the whole file.
   */
  static Map<String, NDArray> loadLarge(Path file, String expectedSha256, Expectation expect, NDManager manager)
      throws Refusal {
    if (expectedSha256 != null) {
      String actual;
      try {
        actual = Safetensors.sha256Hex(file);
      } catch (IOException e) {
        throw new Refusal("cannot read " + file.getFileName() + ": " + e.getMessage(), e);
      }
      if (!actual.equalsIgnoreCase(expectedSha256)) {
        throw new Refusal("sha256 mismatch (expected " + expectedSha256 + ", got " + actual + ")");
      }
    }
    Map<String, Safetensors.TensorInfo> infos = new LinkedHashMap<>();
    try {
      Safetensors.Header h = Safetensors.readHeader(file);
      if (Files.size(file) != h.fileLength()) {
        throw new Refusal("file " + file.getFileName() + " has " + Files.size(file) + " bytes, its header describes "
            + h.fileLength());
      }
      h.tensors().forEach(t -> infos.put(t.name(), t));
    } catch (Refusal e) {
      throw e;
    } catch (IOException e) {
      throw new Refusal(e.getMessage(), e);
    }
    checkKeys(infos, expect);
    Map<String, NDArray> out = new LinkedHashMap<>();
    try {
      Safetensors.stream(file, null, expect.shapes()::containsKey, (info, buf) -> {
        try (NDArray view = toArray(info, buf, expect.shapes().get(info.name()),
            expect.dataTypes().get(info.name()), manager)) {
          out.put(info.name(), view.duplicate()); // libtorch's copy; the view and its direct buffer go
        }
      });
    } catch (IOException | RuntimeException ex) {
      out.values().forEach(NDArray::close);
      throw new Refusal("cannot convert tensors: " + ex.getMessage(), ex);
    }
    Map<String, NDArray> ordered = new LinkedHashMap<>();
    for (String key : expect.shapes().keySet()) {
      ordered.put(key, out.get(key));
    }
    return ordered;
  }

  /** The one-pass load: one sequential read hashes the file and collects every tensor. */
  static Map<String, NDArray> loadInOnePass(
      Path file, String expectedSha256, Expectation expect, NDManager manager) throws Refusal {
    MessageDigest digest = expectedSha256 == null ? null : Safetensors.sha256();
    Map<String, Safetensors.TensorInfo> infos = new LinkedHashMap<>();
    Map<String, ByteBuffer> data = new LinkedHashMap<>();
    try {
      Safetensors.stream(file, digest, expect.shapes()::containsKey, (info, buf) -> data.put(info.name(), buf))
          .tensors()
          .forEach(t -> infos.put(t.name(), t));
    } catch (Safetensors.FormatException e) {
      if (expectedSha256 != null) {
        // a damaged file is first of all a checksum problem: report that, the format error is its symptom
        String actual;
        try {
          actual = Safetensors.sha256Hex(file);
        } catch (IOException io) {
          throw new Refusal("cannot read " + file.getFileName() + ": " + io.getMessage(), io);
        }
        if (!actual.equalsIgnoreCase(expectedSha256)) {
          throw new Refusal("sha256 mismatch (expected " + expectedSha256 + ", got " + actual + ")", e);
        }
      }
      throw new Refusal(e.getMessage(), e);
    } catch (IOException e) {
      throw new Refusal("cannot read " + file.getFileName() + ": " + e.getMessage(), e);
    }
    if (digest != null) {
      String actual = HexFormat.of().formatHex(digest.digest());
      if (!actual.equalsIgnoreCase(expectedSha256)) {
        throw new Refusal("sha256 mismatch (expected " + expectedSha256 + ", got " + actual + ")");
      }
    }
    checkKeys(infos, expect);
    Map<String, NDArray> out = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Shape> e : expect.shapes().entrySet()) {
        Safetensors.TensorInfo info = infos.get(e.getKey());
        ByteBuffer buf = data.remove(e.getKey());
        out.put(e.getKey(), toArray(info, buf, e.getValue(), expect.dataTypes().get(e.getKey()), manager));
      }
    } catch (IOException | RuntimeException ex) {
      out.values().forEach(NDArray::close);
      throw new Refusal("cannot convert tensors: " + ex.getMessage(), ex);
    }
    return out;
  }

  private static void checkKeys(Map<String, Safetensors.TensorInfo> infos, Expectation expect) throws Refusal {
    List<String> missing = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    List<String> wrongShape = new ArrayList<>();
    for (Map.Entry<String, Shape> e : expect.shapes().entrySet()) {
      Safetensors.TensorInfo info = infos.get(e.getKey());
      if (info == null) {
        missing.add(e.getKey());
      } else if (!new Shape(info.shape()).equals(e.getValue())) {
        wrongShape.add(e.getKey() + " is " + info.shapeString() + ", expected " + e.getValue());
      } else if (expect.dataTypes().get(e.getKey()) == DataType.FLOAT32 && !info.dtype().isFloating()) {
        wrongShape.add(e.getKey() + " is " + info.dtype() + ", expected a floating type");
      }
    }
    for (String k : infos.keySet()) {
      if (!expect.shapes().containsKey(k) && !expect.ignored().test(k)) {
        unexpected.add(k);
      }
    }
    List<String> parts = new ArrayList<>();
    if (!missing.isEmpty()) {
      parts.add(missing.size() + " missing keys " + list(missing));
    }
    if (!unexpected.isEmpty()) {
      parts.add(unexpected.size() + " unexpected keys " + list(unexpected));
    }
    if (!wrongShape.isEmpty()) {
      parts.add(wrongShape.size() + " wrong shapes " + list(wrongShape));
    }
    if (!parts.isEmpty()) {
      throw new Refusal("weights do not match the architecture: " + String.join("; ", parts));
    }
  }

  private static String list(List<String> items) {
    if (items.size() <= LIST_LIMIT) {
      return items.toString();
    }
    return items.subList(0, LIST_LIMIT).toString().replaceFirst("]$", ", … " + (items.size() - LIST_LIMIT)
        + " more]");
  }

  private static NDArray toArray(
      Safetensors.TensorInfo info, ByteBuffer buf, Shape shape, DataType type, NDManager manager)
      throws IOException {
    if (type == DataType.INT64) {
      if (info.dtype() == Safetensors.DType.I64) {
        return manager.create(buf, shape, DataType.INT64);
      }
      return manager.create(Safetensors.toLongs(info, buf), shape);
    }
    if (type != DataType.FLOAT32) {
      throw new IllegalArgumentException("unsupported parameter type " + type + " for " + info.name());
    }
    if (info.dtype() == Safetensors.DType.F32) {
      return manager.create(buf, shape, DataType.FLOAT32);
    }
    return manager.create(Safetensors.toFloats(info, buf), shape);
  }
}
