package io.semspai.eval;

import java.util.List;

/**
 * One data row of an upstream-layout CSV. {@code values} holds every cell in header order (short rows padded with
 * empty cells), so the row is written back unchanged. A row with a {@link #problem()} is kept (it is reported and
 * counted, and written back) but has no usable image or label.
 *
 * @param line 1-based line in the file where the row starts
 * @param image the {@code image} cell as written
 * @param ref the resolved image, or null when the row has a problem
 * @param label 0 real, 1 AI; null when the CSV has no {@code class} column or the row has a problem
 * @param split the {@code split} cell, null when the CSV has no such column
 * @param source the {@code source} cell, null when absent or blank
 */
public record DatasetRow(
    long line, List<String> values, String image, ImageRef ref, Integer label, String split, String source,
    CsvProblem problem) {
  public boolean isValid() {
    return problem == null;
  }
}
