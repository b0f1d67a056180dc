package io.semspai.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A {@code torch.save} file (PyTorch 1.6 and later: a zip archive), read without Python.
 *
 * <p>Opening reads only the zip's central directory and the pickle ({@code <top>/data.pkl}); tensor data stays in
 * the file until a {@link TorchTensor} is read, one tensor at a time, straight from its archive entry
 * {@code <top>/data/<key>}. The top folder is whatever the archive uses (torch names it after the file's stem when
 * it was saved), never assumed.
 *
 * <p>The pickle is read by a small virtual machine that understands dicts, lists, tuples, scalars, strings and
 * torch's tensor-rebuilding functions; every other object (a yacs config, optimizer internals, NumPy scalars) is
 * kept as an {@link OpaqueObject} and nothing is ever executed. So a full training checkpoint opens, and
 * {@link #stateDict()} takes the model's weights out of it.
 *
 * <p>Thread-safe for reading tensors once open. Close it to release the file.
 */
public final class TorchCheckpoint implements AutoCloseable {
  /** Chunk in which tensor bytes are streamed and converted: large enough for throughput, small next to a tensor. */
  static final int CHUNK = 1 << 20;
  private static final long MAX_PICKLE = 1L << 30;
  /** Keys under which training scripts nest the model's state dict, in the order they are tried. */
  static final List<String> STATE_DICT_KEYS = List.of("model", "state_dict", "model_state_dict");

  private final Path file;
  private final ZipFile zip;
  private final String prefix;
  private final ByteOrder order;
  private final String formatVersion;
  private final Map<String, StorageRef> storages = new HashMap<>();
  private Object root;

  private TorchCheckpoint(Path file, ZipFile zip, String prefix, ByteOrder order, String formatVersion) {
    this.file = file;
    this.zip = zip;
    this.prefix = prefix;
    this.order = order;
    this.formatVersion = formatVersion;
  }

  /**
   * Opens a checkpoint and reads its pickle.
   *
   * @throws CheckpointException if the file is not a torch.save zip (legacy, TorchScript, safetensors and plain
   *     non-zip files each get their own message), the zip is truncated or corrupt, or the pickle cannot be read
   */
  public static TorchCheckpoint open(Path file) throws IOException {
    byte[] head = readHead(file);
    String name = file.toString();
    if (!startsWith(head, 'P', 'K', 3, 4)) {
      throw new CheckpointException(name + ": " + notAZip(head, Files.size(file)));
    }
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      if (String.valueOf(e.getMessage()).contains("END header not found")) {
        throw new CheckpointException(name + ": truncated: the zip central directory at the end of the file is"
            + " missing (" + Files.size(file) + " bytes); the download or copy was probably cut short, fetch"
            + " the file again", e);
      }
      throw new CheckpointException(name + ": corrupt zip archive (" + e.getMessage() + "); fetch the file again",
          e);
    }
    try {
      TorchCheckpoint ckpt = layout(file, zip);
      ckpt.root = ckpt.unpickle();
      return ckpt;
    } catch (IOException | RuntimeException e) {
      zip.close();
      throw e;
    }
  }

  /** The file this was opened from. */
  public Path file() {
    return file;
  }

  /** The archive's top folder, e.g. {@code spai} for a file saved as {@code spai.pth}. */
  public String archiveName() {
    return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
  }

  /** The archive's {@code version} record (torch writes {@code 3}); empty if it has none. */
  public String formatVersion() {
    return formatVersion;
  }

  /** The byte order of the tensor data ({@code byteorder} record; little-endian when absent, as torch assumes). */
  public ByteOrder byteOrder() {
    return order;
  }

  /**
   * The whole unpickled object: usually a {@code Map<Object, Object>} in insertion order. Values are
   * {@link TorchTensor}s, {@code Map}s, {@code List}s (lists and tuples), {@code Set}s, {@code String}, {@code Long}
   * or {@code BigInteger}, {@code Double}, {@code Boolean}, {@code byte[]}, {@code null}, {@link PyGlobal}s and
   * {@link OpaqueObject}s for everything else.
   */
  public Object root() {
    return root;
  }

  /** The top-level keys when the root is a dict, in file order; empty otherwise. */
  public List<String> topLevelKeys() {
    if (!(root instanceof Map)) {
      return List.of();
    }
    List<String> keys = new ArrayList<>();
    for (Object k : ((Map<?, ?>) root).keySet()) {
      keys.add(String.valueOf(k));
    }
    return keys;
  }

  /**
   * The model's state dict: the dict under {@code model}, {@code state_dict} or {@code model_state_dict} (first
   * found), or the root itself when it is a bare state dict ({@code torch.save(model.state_dict())}).
   *
   * @throws CheckpointException if none is found, or a tensor in it is unreadable (missing or short storage,
   *     unsupported dtype)
   */
  public StateDict stateDict() throws CheckpointException {
    if (!(root instanceof Map)) {
      throw new CheckpointException(file + ": holds a pickled " + PickleReader.describe(root)
          + ", not a dict of tensors; in Python, torch.save(model.state_dict(), path) saves one");
    }
    Map<?, ?> top = (Map<?, ?>) root;
    for (Object v : top.values()) {
      if (v instanceof TorchTensor) {
        return select(top, "");
      }
    }
    for (String key : STATE_DICT_KEYS) {
      if (top.get(key) instanceof Map) {
        return select((Map<?, ?>) top.get(key), key);
      }
    }
    throw new CheckpointException(file + ": no state dict found: no tensors at the top level and no dict under "
        + String.join(", ", STATE_DICT_KEYS) + "; the top-level keys are " + topLevelKeys()
        + "; pass the key that holds the weights");
  }

  /**
   * The state dict under the top-level {@code key} ({@code ""} for the root itself).
   *
   * @throws CheckpointException if there is no such dict, or a tensor in it is unreadable
   */
  public StateDict stateDict(String key) throws CheckpointException {
    if (key.isEmpty()) {
      if (!(root instanceof Map)) {
        throw new CheckpointException(file + ": holds a pickled " + PickleReader.describe(root) + ", not a dict");
      }
      return select((Map<?, ?>) root, "");
    }
    if (!(root instanceof Map) || !((Map<?, ?>) root).containsKey(key)) {
      throw new CheckpointException(file + ": has no '" + key + "' entry; the top-level keys are "
          + topLevelKeys());
    }
    Object value = ((Map<?, ?>) root).get(key);
    if (!(value instanceof Map)) {
      throw new CheckpointException(file + ": '" + key + "' holds a " + PickleReader.describe(value)
          + ", not a state dict");
    }
    return select((Map<?, ?>) value, key);
  }

  @Override
  public void close() throws IOException {
    zip.close();
  }

  // ---- opening

  private static byte[] readHead(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(512);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(file + ": no such file", e);
    }
  }

  private static boolean startsWith(byte[] head, int... bytes) {
    if (head.length < bytes.length) {
      return false;
    }
    for (int i = 0; i < bytes.length; i++) {
      if ((head[i] & 0xff) != bytes[i]) {
        return false;
      }
    }
    return true;
  }

  private static final String RESAVE = "load it in Python and re-save it with a current PyTorch:"
      + " torch.save(torch.load(path, map_location='cpu'), new_path)";

  private static String notAZip(byte[] head, long size) {
    if (head.length == 0) {
      return "empty file, not a checkpoint";
    }
    // Pre-1.6 torch.save: a pickle (protocol 2) that starts with torch's magic number 0x1950a86a20f9469cfc6c.
    if (startsWith(head, 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19)) {
      return "legacy torch.save format (PyTorch before 1.6), which is not supported; " + RESAVE
          + " (the zip format is the default since PyTorch 1.6)";
    }
    if (head.length > 262 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
      return "a tar archive: the oldest torch.save format, not supported; " + RESAVE;
    }
    if (startsWith(head, 'P', 'K', 5, 6)) {
      return "an empty zip archive, not a checkpoint";
    }
    if (head.length >= 9 && head[8] == '{') {
      long headerLen = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (headerLen > 0 && headerLen < size) {
        return "looks like a safetensors file, not a torch.save zip; read it as safetensors";
      }
    }
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < Math.min(4, head.length); i++) {
      hex.append(String.format("%02x", head[i] & 0xff));
    }
    return "not a PyTorch checkpoint: a torch.save file is a zip archive starting with 504b0304 (\"PK\"), this"
        + " one starts with " + hex;
  }

  private static TorchCheckpoint layout(Path file, ZipFile zip) throws IOException {
    List<String> pickles = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
      String n = en.nextElement().getName();
      names.add(n);
      int slash = n.indexOf('/');
      if (n.equals("data.pkl") || slash > 0 && n.substring(slash).equals("/data.pkl")) {
        pickles.add(n);
      }
    }
    if (pickles.size() != 1) {
      throw new CheckpointException(file + ": a zip archive but not a torch.save checkpoint: "
          + (pickles.isEmpty() ? "no data.pkl in it" : "several data.pkl in it " + pickles)
          + " (first entries: " + names.subList(0, Math.min(5, names.size())) + ")");
    }
    String prefix = pickles.get(0).substring(0, pickles.get(0).length() - "data.pkl".length());
    if (zip.getEntry(prefix + "constants.pkl") != null
        || names.stream().anyMatch(n -> n.startsWith(prefix + "code/"))) {
      throw new CheckpointException(file + ": a TorchScript archive (torch.jit.save), not a torch.save checkpoint;"
          + " in Python, torch.save(torch.jit.load(path).state_dict(), new_path) extracts its weights");
    }
    ByteOrder order = ByteOrder.LITTLE_ENDIAN;
    ZipEntry byteorder = zip.getEntry(prefix + "byteorder");
    if (byteorder != null) {
      String text = new String(readSmall(zip, byteorder, 64, file), StandardCharsets.US_ASCII).trim();
      if (text.equals("big")) {
        order = ByteOrder.BIG_ENDIAN;
      } else if (!text.equals("little")) {
        throw new CheckpointException(file + ": unknown byteorder record '" + text + "'");
      }
    }
    String version = "";
    ZipEntry v = zip.getEntry(prefix + ".data/version");
    if (v == null) {
      v = zip.getEntry(prefix + "version");
    }
    if (v != null) {
      version = new String(readSmall(zip, v, 64, file), StandardCharsets.US_ASCII).trim();
    }
    return new TorchCheckpoint(file, zip, prefix, order, version);
  }

  private static byte[] readSmall(ZipFile zip, ZipEntry entry, long limit, Path file) throws IOException {
    if (entry.getSize() > limit) {
      throw new CheckpointException(file + ": " + entry.getName() + " is " + entry.getSize() + " bytes, more than"
          + " the " + limit + " a checkpoint's " + entry.getName() + " can be");
    }
    byte[] bytes;
    try (InputStream in = zip.getInputStream(entry)) {
      bytes = in.readAllBytes();
    } catch (ZipException e) {
      throw new CheckpointException(file + ": " + entry.getName() + " cannot be read: " + e.getMessage(), e);
    }
    CRC32 crc = new CRC32();
    crc.update(bytes);
    if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc() || entry.getSize() != -1
        && bytes.length != entry.getSize()) {
      throw new CheckpointException(file + ": " + entry.getName() + " is corrupt (its CRC or size does not match"
          + " the zip directory); fetch the file again");
    }
    return bytes;
  }

  private Object unpickle() throws IOException {
    ZipEntry entry = zip.getEntry(prefix + "data.pkl");
    byte[] pickle = readSmall(zip, entry, MAX_PICKLE, file);
    return PickleReader.load(pickle, file + ": data.pkl", new TorchCalls());
  }

  /** Torch's tensor-rebuilding functions and storage ids; everything else is left opaque. */
  private final class TorchCalls implements PickleReader.Calls {
    @Override
    public Object persistentLoad(Object pid) throws CheckpointException {
      if (!(pid instanceof List) || ((List<?>) pid).size() != 5 || !"storage".equals(((List<?>) pid).get(0))
          || !(((List<?>) pid).get(1) instanceof PyGlobal) || !(((List<?>) pid).get(2) instanceof String)
          || !(((List<?>) pid).get(4) instanceof Long)) {
        throw new CheckpointException(file + ": data.pkl: unsupported persistent id " + pid
            + "; expected ('storage', torch.<Type>Storage, key, location, numel)");
      }
      List<?> t = (List<?>) pid;
      String key = (String) t.get(2);
      PyGlobal type = (PyGlobal) t.get(1);
      DType dtype = null;
      if (type.module().equals("torch")) {
        dtype = type.name().equals("UntypedStorage") ? DType.U8 : DType.ofStorageClass(type.name()).orElse(null);
      }
      // Not shared between ids: torch 2.x may name one storage untyped in one place and typed in another.
      StorageRef ref = new StorageRef(key, type.name(), dtype, (Long) t.get(4), String.valueOf(t.get(3)));
      storages.putIfAbsent(key, ref);
      return ref;
    }

    @Override
    public Object call(PyGlobal g, List<Object> args) throws CheckpointException {
      String m = g.module();
      String n = g.name();
      if (m.equals("torch._utils")) {
        switch (n) {
          case "_rebuild_tensor":
          case "_rebuild_tensor_v2":
            return args.size() >= 4 ? tensor(args, null, n.endsWith("v2") && args.size() >= 5
                && Boolean.TRUE.equals(args.get(4))) : null;
          case "_rebuild_tensor_v3":
            // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]): an untyped storage.
            return args.size() >= 7 && args.get(6) instanceof PyGlobal
                ? tensor(args, (PyGlobal) args.get(6), Boolean.TRUE.equals(args.get(4))) : null;
          case "_rebuild_parameter":
          case "_rebuild_parameter_with_state":
            return args.size() >= 2 && args.get(0) instanceof TorchTensor
                ? ((TorchTensor) args.get(0)).asParameter(Boolean.TRUE.equals(args.get(1))) : null;
          default:
            return null;
        }
      }
      if (m.equals("torch._tensor") && (n.equals("_rebuild_from_type_v2") || n.equals("_rebuild_from_type"))) {
        // A tensor subclass: (func, type, args, state). Rebuild the plain tensor, drop the subclass.
        // Only one level: the inner function must be a plain rebuild, never this one again.
        if (args.size() >= 3 && args.get(0) instanceof PyGlobal && args.get(2) instanceof List
            && ((PyGlobal) args.get(0)).module().equals("torch._utils")) {
          @SuppressWarnings("unchecked")
          List<Object> inner = (List<Object>) args.get(2);
          Object t = call((PyGlobal) args.get(0), inner);
          return t instanceof TorchTensor ? t : null;
        }
        return null;
      }
      if (m.equals("torch") && n.equals("Size") && args.size() == 1 && args.get(0) instanceof List) {
        return args.get(0);
      }
      return null;
    }

    private Object tensor(List<Object> args, PyGlobal dtypeName, boolean requiresGrad) throws CheckpointException {
      if (!(args.get(0) instanceof StorageRef)) {
        return null;
      }
      StorageRef storage = (StorageRef) args.get(0);
      long offset = toLong(args.get(1), "storage offset");
      long[] shape = longs(args.get(2), "size");
      long[] stride = longs(args.get(3), "stride");
      if (shape.length != stride.length) {
        throw new CheckpointException(file + ": data.pkl: a tensor has size " + Arrays.toString(shape)
            + " but stride " + Arrays.toString(stride));
      }
      try {
        // Sizes come from the file: refuse ones whose element count or extent overflows before anything uses them.
        long last = offset;
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
          numel = Math.multiplyExact(numel, shape[i]);
          last = Math.addExact(last, Math.multiplyExact(Math.max(shape[i] - 1, 0), stride[i]));
        }
        Math.multiplyExact(Math.addExact(last, 1), 16);
      } catch (ArithmeticException e) {
        throw new CheckpointException(file + ": data.pkl: a tensor's size " + Arrays.toString(shape) + ", stride "
            + Arrays.toString(stride) + " and offset " + offset + " overflow 64 bits; the file is damaged");
      }
      DType dtype = storage.dtype();
      String torchType = dtype != null ? dtype.torchName() : storage.typeName();
      if (dtypeName != null) {
        dtype = dtypeName.module().equals("torch") ? DType.ofTorchName(dtypeName.name()).orElse(null) : null;
        torchType = dtypeName.name();
      }
      return new TorchTensor(TorchCheckpoint.this, storage, dtype, torchType, offset, shape, stride, requiresGrad,
          false, null, null);
    }

    private long[] longs(Object v, String what) throws CheckpointException {
      if (!(v instanceof List)) {
        throw new CheckpointException(file + ": data.pkl: a tensor's " + what + " is a "
            + PickleReader.describe(v) + ", not a tuple");
      }
      List<?> list = (List<?>) v;
      long[] out = new long[list.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = toLong(list.get(i), what);
        if (out[i] < 0) {
          throw new CheckpointException(file + ": data.pkl: a tensor has a negative " + what + " " + list);
        }
      }
      return out;
    }

    private long toLong(Object v, String what) throws CheckpointException {
      if (v instanceof Long) {
        return (Long) v;
      }
      throw new CheckpointException(file + ": data.pkl: a tensor's " + what + " is "
          + (v instanceof BigInteger ? "beyond 64 bits" : "a " + PickleReader.describe(v)));
    }
  }

  // ---- state dicts

  private StateDict select(Map<?, ?> dict, String name) throws CheckpointException {
    Map<String, TorchTensor> tensors = new LinkedHashMap<>();
    Map<String, String> skipped = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (e.getValue() instanceof TorchTensor) {
        TorchTensor t = ((TorchTensor) e.getValue()).withKey(key, name);
        String problem = check(t);
        if (problem != null) {
          problems.add(label(t) + ": " + problem);
        }
        tensors.put(key, t);
      } else {
        skipped.put(key, PickleReader.describe(e.getValue()));
      }
    }
    if (!problems.isEmpty()) {
      int shown = Math.min(problems.size(), 10);
      throw new CheckpointException(file + ": " + problems.size() + " unreadable tensor"
          + (problems.size() == 1 ? "" : "s") + ": " + String.join("; ", problems.subList(0, shown))
          + (shown < problems.size() ? "; …" : ""));
    }
    return new StateDict(file + (name.isEmpty() ? "" : " [" + name + "]"), tensors, skipped);
  }

  /** What makes a tensor unreadable, or {@code null}: checked from the zip directory alone, no data read. */
  private String check(TorchTensor t) {
    if (t.dtype() == null) {
      return "unsupported dtype " + t.torchType() + " (supported: float64, float32, float16, bfloat16, int64,"
          + " int32, int16, int8, uint8, bool)";
    }
    ZipEntry entry = zip.getEntry(prefix + t.storage().entryName());
    if (entry == null) {
      return "its storage " + t.storage().entryName() + " is missing from the archive; the file is incomplete";
    }
    long needed = (t.storageOffset() + t.spanElements()) * t.dtype().itemSize();
    if (t.numel() > 0 && entry.getSize() < needed) {
      return "its storage " + t.storage().entryName() + " holds " + entry.getSize() + " bytes but the tensor"
          + " needs " + needed + " (offset " + t.storageOffset() + ", shape " + Arrays.toString(t.shape())
          + ", stride " + Arrays.toString(t.stride()) + "); the file is truncated or damaged";
    }
    return null;
  }

  private String label(TorchTensor t) {
    if (t.key() == null) {
      return "tensor in " + t.storage().entryName();
    }
    return "tensor '" + t.key() + "'" + (t.dictName() == null || t.dictName().isEmpty() ? ""
        : " (in '" + t.dictName() + "')");
  }

  CheckpointException problem(TorchTensor t, String what) {
    return new CheckpointException(file + ": " + label(t) + ": " + what);
  }

  /**
   * Streams bytes {@code [start, start + count)} of a tensor's storage entry to {@code sink} in chunks of whole
   * elements, in the archive's byte order. Verifies the entry's CRC when the read covers all of it.
   */
  void stream(TorchTensor t, long start, long count, int itemSize, TorchTensor.Decoder sink)
      throws CheckpointException {
    String problem = check(t);
    if (problem != null) {
      throw problem(t, problem);
    }
    ZipEntry entry = zip.getEntry(prefix + t.storage().entryName());
    boolean whole = start == 0 && count == entry.getSize() && entry.getCrc() != -1;
    CRC32 crc = whole ? new CRC32() : null;
    int chunk = CHUNK - CHUNK % itemSize;
    byte[] buf = new byte[(int) Math.min(chunk, count)];
    try (InputStream in = zip.getInputStream(entry)) {
      long skipped = in.skip(start);
      while (skipped < start) {
        long s = in.skip(start - skipped);
        if (s <= 0) {
          throw problem(t, "its storage " + t.storage().entryName() + " ends early; the file is truncated");
        }
        skipped += s;
      }
      long done = 0;
      while (done < count) {
        int n = (int) Math.min(buf.length, count - done);
        int got = in.readNBytes(buf, 0, n);
        if (got < n) {
          throw problem(t, "its storage " + t.storage().entryName() + " ends after " + (start + done + got)
              + " bytes, " + (start + count) + " needed; the file is truncated");
        }
        if (crc != null) {
          crc.update(buf, 0, n);
        }
        sink.decode(ByteBuffer.wrap(buf, 0, n).slice().order(order), (int) (done / itemSize), n / itemSize);
        done += n;
      }
    } catch (CheckpointException e) {
      throw e;
    } catch (ZipException e) {
      throw problem(t, "its storage " + t.storage().entryName() + " cannot be read: " + e.getMessage());
    } catch (IOException e) {
      throw new CheckpointException(file + ": " + label(t) + ": read failed: " + e.getMessage(), e);
    }
    if (crc != null && crc.getValue() != entry.getCrc()) {
      throw problem(t, "its storage " + t.storage().entryName() + " is corrupt (CRC mismatch); fetch the file"
          + " again");
    }
  }

  /** Unmodifiable view used by tests: every storage the pickle referenced. */
  Map<String, StorageRef> storages() {
    return Collections.unmodifiableMap(storages);
  }
}
