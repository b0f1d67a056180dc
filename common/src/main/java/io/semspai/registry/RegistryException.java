package io.semspai.registry;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A schema registry call failed. Extends Kafka's {@link SerializationException} so that serdes surface it the way
 * Kafka clients and Streams expect (deserialization handlers see it as a poison record, not a crash).
 */
public class RegistryException extends SerializationException {
  private static final long serialVersionUID = 1L;
  private final int httpStatus;
  private final int errorCode;

  public RegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
    super(message, cause);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  /** HTTP status of the failed call, or -1 when no response arrived. */
  public int httpStatus() {
    return httpStatus;
  }

  /** Confluent error code from the response body (e.g. 40403 schema not found, 409 incompatible), or -1. */
  public int errorCode() {
    return errorCode;
  }

  /** The registry has no schema under the id a record carries. */
  public static final class UnknownSchemaId extends RegistryException {
    private static final long serialVersionUID = 1L;

    UnknownSchemaId(int id, String registry, int httpStatus, int errorCode) {
      super("schema id " + id + " is unknown to the registry at " + registry
          + " (was the record written against another registry, or was the registry's storage reset?)",
          httpStatus, errorCode, null);
    }
  }

  /** A schema was refused because it breaks the subject's compatibility rule. */
  public static final class Incompatible extends RegistryException {
    private static final long serialVersionUID = 1L;

    Incompatible(String subject, String detail, int httpStatus, int errorCode) {
      super("schema for subject " + subject + " is incompatible with the registered versions under the subject's "
          + "compatibility rule: " + detail, httpStatus, errorCode, null);
    }
  }
}
