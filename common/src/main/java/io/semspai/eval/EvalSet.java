package io.semspai.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The outcome of scoring one CSV in one mode: a score per image that made it through, a reason code per image that
 * did not. Not thread-safe; collect per worker or synchronise.
 */
public final class EvalSet {
  private final String name;
  private final String mode;
  private final List<Integer> labels = new ArrayList<>();
  private final List<Double> scores = new ArrayList<>();
  private final List<String> sources = new ArrayList<>();
  private final Map<String, Integer> errors = new TreeMap<>();
  private int errorCount;

  /**
   * @param name the CSV's stem (upstream's test-set name)
   * @param mode {@code fusion} or {@code spectral}; any label the caller uses to tell runs apart
   */
  public EvalSet(String name, String mode) {
    this.name = Objects.requireNonNull(name, "name");
    this.mode = Objects.requireNonNull(mode, "mode");
  }

  /**
   * Collects one CSV's results: each row with a {@link RowScore} score counts, each error (and each bad row, as
   * {@link CsvProblem#BAD_ROW}) is counted by reason.
   *
   * @param rows the evaluated rows (usually {@link Dataset#rowsOfSplit})
   * @param results one per row, in order
   */
  public static EvalSet of(String name, String mode, List<DatasetRow> rows, List<RowScore> results) {
    if (rows.size() != results.size()) {
      throw new IllegalArgumentException("got " + results.size() + " results for " + rows.size() + " rows");
    }
    EvalSet set = new EvalSet(name, mode);
    for (int i = 0; i < rows.size(); i++) {
      DatasetRow row = rows.get(i);
      RowScore r = results.get(i);
      if (!row.isValid()) {
        set.addError(row.problem().reason());
      } else if (row.label() == null) {
        throw new CsvFormatException(name + ": line " + row.line() + " has no class; evaluation needs labels");
      } else if (r == null) {
        throw new IllegalArgumentException(name + ": no result for line " + row.line());
      } else if (r.isError()) {
        set.addError(r.errorCode());
      } else {
        set.addScore(row.label(), r.score(), row.source());
      }
    }
    return set;
  }

  public EvalSet addScore(int label, double score, String source) {
    if (label != 0 && label != 1) {
      throw new IllegalArgumentException("label must be 0 (real) or 1 (AI), got " + label);
    }
    if (!(score >= 0 && score <= 1)) {
      throw new IllegalArgumentException("score must be a probability in [0,1], got " + score);
    }
    labels.add(label);
    scores.add(score);
    sources.add(source);
    return this;
  }

  /** An image that produced no score, by its intake or engine reason code (e.g. DECODE_FAILED, TOO_LARGE). */
  public EvalSet addError(String reasonCode) {
    errors.merge(Objects.requireNonNull(reasonCode, "reasonCode"), 1, Integer::sum);
    errorCount++;
    return this;
  }

  public String name() {
    return name;
  }

  public String mode() {
    return mode;
  }

  public int scoredCount() {
    return labels.size();
  }

  public int errorCount() {
    return errorCount;
  }

  /** Images seen, scored or not. */
  public int imageCount() {
    return labels.size() + errorCount;
  }

  /** Error counts by reason code, sorted by code. */
  public Map<String, Integer> errorsByReason() {
    return Collections.unmodifiableMap(errors);
  }

  public int[] labels() {
    return labels.stream().mapToInt(Integer::intValue).toArray();
  }

  public double[] scores() {
    return scores.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** Per scored image; null where the CSV has no source for it. */
  public List<String> sources() {
    return Collections.unmodifiableList(sources);
  }

  public boolean hasSources() {
    return sources.stream().anyMatch(Objects::nonNull);
  }
}
