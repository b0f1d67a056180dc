package io.semspai.importer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides a component's sizes one at a time, in the order {@code --set}, a tensor's shape, the upstream preset, and
 * keeps one line per size saying which it was (what {@code model import} prints). Every {@link ComponentImporter}'s
 * {@code plan} uses one.
 */
final class SizeDecider {
  private final String option;
  private final Map<String, SourceTensor> tensors;
  private final Map<String, String> settings;
  final List<String> lines = new ArrayList<>();

  /**
   * @param option the component's command-line option, for messages ({@code --spai})
   * @param settings canonical {@code --set} key → value as typed
   */
  SizeDecider(String option, Map<String, SourceTensor> tensors, Map<String, String> settings) {
    this.option = option;
    this.tensors = tensors;
    this.settings = settings;
  }

  boolean isSet(String key) {
    return settings.containsKey(key);
  }

  String setting(String key) {
    return settings.get(key);
  }

  /** The tensor's shape if present with the given rank; null otherwise (the key check reports it). */
  long[] shape(String key, int rank) {
    SourceTensor t = tensors.get(key);
    return t != null && t.shape().length == rank ? t.shape() : null;
  }

  SourceTensor tensor(String key) {
    return tensors.get(key);
  }

  /** Dimension {@code i} of a shape, or null when the tensor is absent (boxed on purpose: no unboxing traps). */
  static Long at(long[] shape, int i) {
    return shape == null ? null : Long.valueOf(shape[i]);
  }

  /** 1 + the largest index (group 1) in keys matching {@code p}; null if none match. */
  Integer count(Pattern p) {
    int max = -1;
    for (String k : tensors.keySet()) {
      Matcher m = p.matcher(k);
      if (m.matches()) {
        max = Math.max(max, Integer.parseInt(m.group(1)));
      }
    }
    return max < 0 ? null : max + 1;
  }

  int integer(String key, Number inferred, String from, int presetValue) throws ImportException {
    if (settings.containsKey(key)) {
      int v = parseInt(key, settings.get(key));
      set(key, Integer.toString(v), inferred == null ? null : Long.toString(inferred.longValue()), from);
      return v;
    }
    if (inferred != null) {
      if (inferred.longValue() <= 0 || inferred.longValue() > Integer.MAX_VALUE) {
        throw new ImportException(option + ": " + from + " gives " + key + " = " + inferred + ", which is not a size");
      }
      lines.add(key + " = " + inferred + "  (from " + from + ")");
      return inferred.intValue();
    }
    preset(key, Integer.toString(presetValue));
    return presetValue;
  }

  /**
   * A list of sizes (one per stage): {@code --set} as {@code 3,4,30,3}, else {@code inferred} when every element
   * was read, else the preset.
   */
  List<Integer> integers(String key, List<Long> inferred, String from, List<Integer> presetValue)
      throws ImportException {
    List<Integer> read = null;
    if (inferred != null && !inferred.isEmpty() && !inferred.contains(null)) {
      read = new ArrayList<>();
      for (Long v : inferred) {
        if (v <= 0 || v > Integer.MAX_VALUE) {
          throw new ImportException(option + ": " + from + " gives " + key + " = " + inferred + ", which are not"
              + " sizes");
        }
        read.add(v.intValue());
      }
    }
    if (settings.containsKey(key)) {
      List<Integer> v = parseInts(key, settings.get(key));
      set(key, v.toString(), read == null ? null : read.toString(), from);
      return v;
    }
    if (read != null) {
      lines.add(key + " = " + read + "  (from " + from + ")");
      return read;
    }
    preset(key, presetValue.toString());
    return presetValue;
  }

  double real(String key, double presetValue) throws ImportException {
    if (settings.containsKey(key)) {
      double v = parseReal(key, settings.get(key));
      set(key, Double.toString(v), null, null);
      return v;
    }
    preset(key, Double.toString(presetValue));
    return presetValue;
  }

  /** {@code hidden / base}, nudged so that {@code (int) (base · ratio) == hidden} as the configs compute it. */
  double ratio(String key, Long hidden, int base, String from, double presetValue) throws ImportException {
    if (settings.containsKey(key)) {
      double v = parseReal(key, settings.get(key));
      set(key, trim(v), hidden == null ? null : trim((double) hidden / base), from);
      return v;
    }
    if (hidden == null) {
      preset(key, trim(presetValue));
      return presetValue;
    }
    double r = (double) hidden / base;
    for (int i = 0; i < 4 && (int) (base * r) != hidden; i++) {
      r = Math.nextUp(r);
    }
    lines.add(key + " = " + trim(r) + "  (from " + from + ": " + hidden + " / " + base + ")");
    return r;
  }

  /** Records a size taken from the preset, with why when the shapes could not tell. */
  void preset(String key, String value) {
    lines.add(key + " = " + value + "  (upstream preset)");
  }

  void note(String key, String value, String why) {
    lines.add(key + " = " + value + "  (" + why + ")");
  }

  void set(String key, String value, String inferred, String from) {
    if (inferred != null && !inferred.equals(value)) {
      lines.add(key + " = " + value + "  (--set; " + from + " says " + inferred + ")");
    } else {
      lines.add(key + " = " + value + "  (--set)");
    }
  }

  static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  static int parseInt(String key, String value) throws ImportException {
    try {
      int v = Integer.parseInt(value.trim());
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ImportException("--set " + key + "=" + value + ": not a non-negative integer");
    }
  }

  static double parseReal(String key, String value) throws ImportException {
    try {
      double v = Double.parseDouble(value.trim());
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ImportException("--set " + key + "=" + value + ": not a positive number");
    }
  }

  /** {@code 3,4,30,3} (brackets allowed): positive integers. */
  static List<Integer> parseInts(String key, String value) throws ImportException {
    String v = value.trim().replaceAll("^\\[|\\]$", "").trim();
    List<Integer> out = new ArrayList<>();
    try {
      for (String part : v.split(",")) {
        int n = Integer.parseInt(part.trim());
        if (n < 1) {
          throw new NumberFormatException();
        }
        out.add(n);
      }
    } catch (NumberFormatException e) {
      throw new ImportException("--set " + key + "=" + value + ": expected positive integers, one per stage, like"
          + " 3,4,30,3");
    }
    return out;
  }
}
