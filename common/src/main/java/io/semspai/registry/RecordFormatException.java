package io.semspai.registry;

import org.apache.kafka.common.errors.SerializationException;

/** A record's bytes are not a readable Confluent-framed Avro value; {@link #reason()} says how. */
public final class RecordFormatException extends SerializationException {
  private static final long serialVersionUID = 1L;

  /** Why a record could not be read. The names double as dead-letter reason codes. */
  public enum Reason {
    /** The first byte is not 0: the value is not Confluent-framed Avro (JSON, another serde, garbage). */
    WRONG_MAGIC_BYTE,
    /** The bytes end before the header or the Avro body is complete. */
    TRUNCATED_PAYLOAD,
    /** The body does not decode under the writer schema, or bytes are left over. */
    CORRUPT_PAYLOAD,
    /** The registry has no schema under the record's id. */
    UNKNOWN_SCHEMA_ID
  }

  private final Reason reason;

  public RecordFormatException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
