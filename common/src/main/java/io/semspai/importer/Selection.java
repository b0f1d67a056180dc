package io.semspai.importer;

import java.util.LinkedHashMap;
import java.util.Map;

/** Key selections the component importers share. */
final class Selection {
  private Selection() {}

  /** Strips {@code module.} when every key has it: a model saved while wrapped in DataParallel. */
  static Map<String, SourceTensor> withoutDataParallelPrefix(Map<String, SourceTensor> all) {
    String prefix = "module.";
    return all.keySet().stream().allMatch(k -> k.startsWith(prefix)) ? under(all, prefix) : all;
  }

  /** The tensors whose keys start with {@code prefix}, with it removed, in file order. */
  static Map<String, SourceTensor> under(Map<String, SourceTensor> all, String prefix) {
    Map<String, SourceTensor> out = new LinkedHashMap<>();
    all.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k.substring(prefix.length()), v);
      }
    });
    return out;
  }
}
