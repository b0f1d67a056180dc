package io.semspai.importer;

import java.io.IOException;

/**
 * An import cannot go ahead: the file is not a checkpoint, is damaged, or does not hold the weights asked for. The
 * message names the file or component and says what is wrong and, where it helps, what to do about it.
 */
public final class ImportException extends IOException {
  private static final long serialVersionUID = 1L;

  public ImportException(String message) {
    super(message);
  }

  public ImportException(String message, Throwable cause) {
    super(message, cause);
  }
}
