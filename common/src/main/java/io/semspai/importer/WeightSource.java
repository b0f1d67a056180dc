package io.semspai.importer;

import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.CheckpointException;
import io.semspai.checkpoint.StateDict;
import io.semspai.checkpoint.TorchCheckpoint;
import io.semspai.checkpoint.TorchTensor;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint file opened for import: a {@code torch.save} zip (a training checkpoint whose weights sit under
 * {@code model}, {@code state_dict} or {@code model_state_dict}, or a bare state dict) or a safetensors file. Either
 * way it offers the same thing, the state dict's tensors by key in file order, each read only when asked for.
 *
 * <p>The format is told from the file's first bytes, not its name: OpenCLIP ships the same weights as {@code .bin}
 * (a torch.save zip) and {@code .safetensors}.
 */
public final class WeightSource implements AutoCloseable {
  /** How the file stores its tensors. */
  public enum Format {
    TORCH_SAVE("torch.save zip"),
    SAFETENSORS("safetensors");

    private final String label;

    Format(String label) {
      this.label = label;
    }

    @Override
    public String toString() {
      return label;
    }
  }

  private final Path file;
  private final Format format;
  private final String selection;
  private final Map<String, SourceTensor> tensors;
  private final List<String> otherEntries;
  private final Closeable resource;

  private WeightSource(Path file, Format format, String selection, Map<String, SourceTensor> tensors,
      List<String> otherEntries, Closeable resource) {
    this.file = file;
    this.format = format;
    this.selection = selection;
    this.tensors = Collections.unmodifiableMap(tensors);
    this.otherEntries = List.copyOf(otherEntries);
    this.resource = resource;
  }

  /**
   * Opens {@code file} and reads its index (zip directory and pickle, or safetensors header); no tensor data yet.
   *
   * @throws ImportException naming the file: missing, empty, not a checkpoint, truncated, corrupt, or holding no
   *     state dict
   */
  public static WeightSource open(Path file) throws ImportException {
    if (!Files.exists(file)) {
      throw new ImportException(file + ": does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new ImportException(file + ": is not a regular file");
    }
    byte[] head;
    long size;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(16);
      size = Files.size(file);
    } catch (IOException e) {
      throw new ImportException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (size == 0) {
      throw new ImportException(file + ": is empty (0 bytes), not a checkpoint");
    }
    if (looksLikeSafetensors(head, size)) {
      return openSafetensors(file);
    }
    return openTorch(file);
  }

  /** An 8-byte little-endian header length that fits the file, then the JSON header's opening brace. */
  static boolean looksLikeSafetensors(byte[] head, long size) {
    if (head.length < 9 || head[8] != '{') {
      return false;
    }
    long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return n > 1 && n <= size - 8;
  }

  private static WeightSource openTorch(Path file) throws ImportException {
    TorchCheckpoint ckpt;
    try {
      ckpt = TorchCheckpoint.open(file);
    } catch (CheckpointException e) {
      throw new ImportException(e.getMessage(), e);
    } catch (IOException e) {
      throw new ImportException(file + ": cannot read: " + e.getMessage(), e);
    }
    try {
      StateDict sd = ckpt.stateDict();
      String selection;
      List<String> others = new ArrayList<>();
      String nested = nestedKey(sd);
      if (nested == null) {
        selection = "a bare state dict";
      } else {
        selection = "a training checkpoint, weights under '" + nested + "'";
        for (String k : ckpt.topLevelKeys()) {
          if (!k.equals(nested)) {
            others.add(k);
          }
        }
      }
      Map<String, SourceTensor> tensors = new LinkedHashMap<>();
      for (Map.Entry<String, TorchTensor> e : sd.tensors().entrySet()) {
        tensors.put(e.getKey(), new TorchSourceTensor(e.getKey(), e.getValue()));
      }
      if (tensors.isEmpty()) {
        throw new ImportException(file + ": its state dict (" + selection + ") holds no tensors");
      }
      return new WeightSource(file, Format.TORCH_SAVE, selection, tensors, others, ckpt::close);
    } catch (IOException | RuntimeException e) {
      try {
        ckpt.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof ImportException ie) {
        throw ie;
      }
      if (e instanceof IOException io) {
        throw new ImportException(io.getMessage(), io);
      }
      throw (RuntimeException) e;
    }
  }

  /** The top-level key {@link TorchCheckpoint#stateDict()} took, or null for a bare state dict. */
  private static String nestedKey(StateDict sd) {
    String s = sd.source();
    if (!s.endsWith("]")) {
      return null;
    }
    int open = s.lastIndexOf(" [");
    return open < 0 ? null : s.substring(open + 2, s.length() - 1);
  }

  private static WeightSource openSafetensors(Path file) throws ImportException {
    Safetensors.Header header;
    try {
      header = Safetensors.readHeader(file);
    } catch (Safetensors.FormatException e) {
      throw new ImportException(file + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ImportException(file + ": cannot read: " + e.getMessage(), e);
    }
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new ImportException(file + ": cannot read: " + e.getMessage(), e);
    }
    Map<String, SourceTensor> tensors = new LinkedHashMap<>();
    for (Safetensors.TensorInfo t : header.tensors()) {
      tensors.put(t.name(), new SafetensorsSourceTensor(file, ch, header.dataStart(), t));
    }
    if (tensors.isEmpty()) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // nothing was read from it
      }
      throw new ImportException(file + ": the safetensors file holds no tensors");
    }
    return new WeightSource(file, Format.SAFETENSORS, "safetensors", tensors, List.of(), ch);
  }

  public Path file() {
    return file;
  }

  public Format format() {
    return format;
  }

  /** What was read, for the user: {@code a training checkpoint, weights under 'model'}, {@code a bare state dict}. */
  public String selection() {
    return selection;
  }

  /** The state dict's tensors by key, in file order. */
  public Map<String, SourceTensor> tensors() {
    return tensors;
  }

  /** Top-level entries of a training checkpoint that were not read (optimizer, scheduler, config…). */
  public List<String> otherEntries() {
    return otherEntries;
  }

  @Override
  public void close() throws IOException {
    resource.close();
  }

  // ---- the two kinds of tensor

  private record TorchSourceTensor(String key, TorchTensor t) implements SourceTensor {
    @Override
    public String dtype() {
      return t.dtype().name();
    }

    @Override
    public long[] shape() {
      return t.shape();
    }

    @Override
    public boolean isFloating() {
      return t.dtype().isFloating();
    }

    @Override
    public float[] readFloats() throws IOException {
      if (!t.dtype().isFloating()) {
        long[] v = t.toLongs();
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
          out[i] = v[i];
        }
        return out;
      }
      return t.toFloats();
    }

    @Override
    public long[] readLongs() throws IOException {
      if (t.dtype().isFloating()) {
        return integral(key, t.toDoubles());
      }
      return t.toLongs();
    }
  }

  private record SafetensorsSourceTensor(Path file, FileChannel ch, long dataStart, Safetensors.TensorInfo info)
      implements SourceTensor {
    @Override
    public String key() {
      return info.name();
    }

    @Override
    public String dtype() {
      return info.dtype().name();
    }

    @Override
    public long[] shape() {
      return info.shape().clone();
    }

    @Override
    public boolean isFloating() {
      return info.dtype().isFloating();
    }

    private ByteBuffer read() throws IOException {
      if (info.byteLength() > Integer.MAX_VALUE - 8) {
        throw new ImportException(file + ": tensor " + info.name() + " is larger than 2 GiB");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) info.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
      long at = dataStart + info.begin();
      while (buf.hasRemaining()) {
        int n = ch.read(buf, at + buf.position());
        if (n < 0) {
          throw new ImportException(file + ": truncated inside tensor " + info.name());
        }
      }
      return buf.flip();
    }

    @Override
    public float[] readFloats() throws IOException {
      return Safetensors.toFloats(info, read());
    }

    @Override
    public long[] readLongs() throws IOException {
      try {
        return Safetensors.toLongs(info, read());
      } catch (Safetensors.FormatException e) {
        throw new ImportException(file + ": " + e.getMessage(), e);
      }
    }
  }

  private static long[] integral(String key, double[] values) throws ImportException {
    long[] out = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] != Math.rint(values[i])) {
        throw new ImportException("tensor " + key + " should hold integers, found " + values[i]);
      }
      out[i] = (long) values[i];
    }
    return out;
  }
}
