package io.semspai.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class ConfluentWireFormatTest {
  @Test
  void framesWithMagicZeroAndBigEndianId() {
    byte[] framed = ConfluentWireFormat.frame(0x01020304, new byte[] {9, 8});
    assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 9, 8}, framed);
    assertEquals(0x01020304, ConfluentWireFormat.schemaId(framed, "t"));
  }

  @Test
  void wrongMagicByteIsNamed() {
    var e = assertThrows(SerializationException.class,
        () -> ConfluentWireFormat.schemaId(new byte[] {7, 0, 0, 0, 1, 5}, "record on t"));
    assertTrue(e.getMessage().contains("wrong magic byte 0x07"), e.getMessage());
  }

  @Test
  void shortPayloadIsTruncated() {
    var e = assertThrows(SerializationException.class,
        () -> ConfluentWireFormat.schemaId(new byte[] {0, 0, 1}, "record on t"));
    assertTrue(e.getMessage().contains("truncated payload: 3 bytes"), e.getMessage());
  }
}
