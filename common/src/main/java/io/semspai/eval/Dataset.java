package io.semspai.eval;

import java.nio.file.Path;
import java.util.List;

/**
 * A CSV in upstream SPAI's layout: columns {@code image} (path relative to {@link #root()}, or an http(s) URL),
 * {@code class} (0 real, 1 AI), {@code split}, optionally {@code source}; any other column is kept in order.
 *
 * @param csv the file it was read from; null for a listed folder that has not been written yet
 * @param name the CSV's stem (upstream names each test set after it) or the folder's name
 */
public record Dataset(Path csv, String name, Path root, List<String> header, List<DatasetRow> rows) {
  public static final String IMAGE = "image";
  public static final String CLASS = "class";
  public static final String SPLIT = "split";
  public static final String SOURCE = "source";

  public Dataset {
    header = List.copyOf(header);
    rows = List.copyOf(rows);
  }

  public boolean hasLabels() {
    return header.contains(CLASS);
  }

  public boolean hasSplit() {
    return header.contains(SPLIT);
  }

  public boolean hasSource() {
    return header.contains(SOURCE);
  }

  /** Every row that has a problem, in file order. Never dropped silently: commands count and print them. */
  public List<CsvProblem> problems() {
    return rows.stream().filter(r -> !r.isValid()).map(DatasetRow::problem).toList();
  }

  public List<DatasetRow> validRows() {
    return rows.stream().filter(DatasetRow::isValid).toList();
  }

  /**
   * Rows of one split, as upstream's {@code --split} selects them (it evaluates {@code test} by default). Without
   * a {@code split} column every row belongs to every split. Rows with problems are included so they are counted.
   */
  public List<DatasetRow> rowsOfSplit(String split) {
    if (split == null || !hasSplit()) {
      return rows;
    }
    return rows.stream().filter(r -> split.equals(r.split())).toList();
  }

  /** Fails with a clear message when the CSV has no {@code class} column (eval and training need labels). */
  public Dataset requireLabels() {
    if (!hasLabels()) {
      throw new CsvFormatException(
          (csv != null ? csv.toString() : name) + ": no 'class' column; evaluation needs labels (0 real, 1 AI)");
    }
    return this;
  }
}
