package io.semspai.checkpoint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A model's weights as {@code model.state_dict()} names them, in file order. Every tensor in it has been checked
 * against the archive (storage present and long enough, dtype supported), but no data has been read: read each
 * with {@link TorchTensor#toFloats()} or {@link TorchTensor#toLongs()} when it is needed.
 */
public final class StateDict {
  private final String source;
  private final Map<String, TorchTensor> tensors;
  private final Map<String, String> skipped;

  StateDict(String source, Map<String, TorchTensor> tensors, Map<String, String> skipped) {
    this.source = source;
    this.tensors = Collections.unmodifiableMap(tensors);
    this.skipped = Collections.unmodifiableMap(skipped);
  }

  /** Where it came from, for messages: the file and, if nested, the key, e.g. {@code spai.pth [model]}. */
  public String source() {
    return source;
  }

  /** Tensor keys in file order. */
  public Set<String> keys() {
    return tensors.keySet();
  }

  /** The tensors by key, in file order. */
  public Map<String, TorchTensor> tensors() {
    return tensors;
  }

  /** The tensor under {@code key}, or {@code null}. */
  public TorchTensor get(String key) {
    return tensors.get(key);
  }

  public boolean contains(String key) {
    return tensors.containsKey(key);
  }

  public int size() {
    return tensors.size();
  }

  /** Bytes the tensors' elements take in their saved dtypes. */
  public long totalBytes() {
    long n = 0;
    for (TorchTensor t : tensors.values()) {
      n += t.byteSize();
    }
    return n;
  }

  /** Entries that are not tensors (extra state, nested dicts), by key, with what they are, e.g. {@code int}. */
  public Map<String, String> skipped() {
    return skipped;
  }

  /**
   * The tensors whose keys start with {@code prefix}, under their keys without it: {@code withPrefix("visual.trunk.")}
   * turns {@code visual.trunk.stem.0.weight} into {@code stem.0.weight}.
   */
  public StateDict withPrefix(String prefix) {
    Map<String, TorchTensor> picked = new LinkedHashMap<>();
    for (Map.Entry<String, TorchTensor> e : tensors.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        picked.put(e.getKey().substring(prefix.length()), e.getValue());
      }
    }
    Map<String, String> skippedPicked = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : skipped.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        skippedPicked.put(e.getKey().substring(prefix.length()), e.getValue());
      }
    }
    return new StateDict(source + " " + prefix + "*", picked, skippedPicked);
  }

  @Override
  public String toString() {
    return "StateDict[" + source + ", " + tensors.size() + " tensors]";
  }
}
