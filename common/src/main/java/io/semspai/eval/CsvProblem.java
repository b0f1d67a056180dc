package io.semspai.eval;

/** A row that cannot be used as it stands, with the 1-based line where it starts in the CSV file. */
public record CsvProblem(long line, String reason, String message) {
  /** The reason code for rows with a problem, counted like the intake's codes in the error summary. */
  public static final String BAD_ROW = "BAD_ROW";

  @Override
  public String toString() {
    return "line " + line + ": " + message;
  }
}
