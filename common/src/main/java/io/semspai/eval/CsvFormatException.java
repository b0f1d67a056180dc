package io.semspai.eval;

/** A CSV that cannot be read at all (no header, no {@code image} column, duplicate columns) or lacks what a command needs. */
public class CsvFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CsvFormatException(String message) {
    super(message);
  }
}
