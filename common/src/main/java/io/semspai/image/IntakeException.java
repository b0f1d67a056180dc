package io.semspai.image;

import java.io.IOException;
import java.util.Objects;

/**
 * An image that was not taken in, with the one {@link IntakeReason} that says why. It is an {@link IOException}, so
 * callers of {@link ImageDecoder#decode(byte[])} that already handle I/O failures keep working.
 */
public final class IntakeException extends IOException {
  private static final long serialVersionUID = 1L;

  private final IntakeReason reason;
  private final String input;

  public IntakeException(IntakeReason reason, String input, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.input = Objects.requireNonNull(input, "input");
  }

  public IntakeReason reason() {
    return reason;
  }

  /** The source as it appears in the message: a URI with its query redacted, a path or an inline label. */
  public String input() {
    return input;
  }
}
