package io.semspai.checkpoint;

import java.io.IOException;

/**
 * A checkpoint file cannot be read as asked. The message names the file, the tensor key where there is one, the
 * problem and, where it helps, what to do about it.
 */
public final class CheckpointException extends IOException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
