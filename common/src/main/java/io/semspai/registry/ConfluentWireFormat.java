package io.semspai.registry;

import java.nio.ByteBuffer;

/** The Confluent framing of a record value: magic byte 0, a 4-byte big-endian schema id, then the Avro binary body. */
public final class ConfluentWireFormat {
  public static final byte MAGIC = 0;
  public static final int HEADER_BYTES = 5;

  private ConfluentWireFormat() {}

  public static byte[] frame(int schemaId, byte[] body) {
    return ByteBuffer.allocate(HEADER_BYTES + body.length).put(MAGIC).putInt(schemaId).put(body).array();
  }

  /** The schema id of a framed payload, after checking the frame; {@code where} names the record in errors. */
  public static int schemaId(byte[] payload, String where) {
    if (payload.length < HEADER_BYTES) {
      throw new RecordFormatException(RecordFormatException.Reason.TRUNCATED_PAYLOAD,
          where + ": truncated payload: " + payload.length
          + " bytes, shorter than the 5-byte Confluent header (magic byte + schema id)", null);
    }
    if (payload[0] != MAGIC) {
      throw new RecordFormatException(RecordFormatException.Reason.WRONG_MAGIC_BYTE, String.format(
          "%s: wrong magic byte 0x%02x: not Confluent-framed Avro (expected 0x00, then a 4-byte schema id)",
          where, payload[0] & 0xFF), null);
    }
    return ByteBuffer.wrap(payload, 1, 4).getInt();
  }
}
