package io.semspai.registry;

import java.io.EOFException;
import java.io.IOException;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-framed Avro into a generated class: the writer schema comes from the registry by id, the reader
 * schema is the class's own, and Avro's schema resolution maps one onto the other.
 */
public final class ConfluentAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
  static {
    trustGeneratedClasses();
  }

  private final SchemaRegistryClient client;
  private final Class<T> type;
  private final Schema readerSchema;
  private final SpecificData model;
  private final Map<Integer, SpecificDatumReader<T>> readers = new java.util.concurrent.ConcurrentHashMap<>();

  public ConfluentAvroDeserializer(SchemaRegistryClient client, Class<T> type) {
    this.client = client;
    this.type = type;
    this.model = SpecificData.getForClass(type);
    this.readerSchema = model.getSchema(type);
  }

  /**
   * Avro 1.12 refuses to instantiate classes named by a schema unless they are trusted. Our generated classes are
   * trusted in addition to whatever the JVM already trusts; nothing else is widened.
   */
  private static synchronized void trustGeneratedClasses() {
    ClassSecurityValidator.ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous,
        c -> c.getName().startsWith(GENERATED_PACKAGE)));
  }

  private static final String GENERATED_PACKAGE = "io.semspai.avro.";

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // Built fully by the constructor.
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    String where = "record on " + topic;
    int id = ConfluentWireFormat.schemaId(data, where);
    SpecificDatumReader<T> reader;
    try {
      reader = readers.computeIfAbsent(id, i -> new SpecificDatumReader<>(client.schemaById(i), readerSchema, model));
    } catch (RegistryException.UnknownSchemaId e) {
      throw new RecordFormatException(RecordFormatException.Reason.UNKNOWN_SCHEMA_ID, where + ": " + e.getMessage(), e);
    }
    BinaryDecoder dec = DecoderFactory.get().binaryDecoder(
        data, ConfluentWireFormat.HEADER_BYTES, data.length - ConfluentWireFormat.HEADER_BYTES, null);
    T value;
    try {
      value = reader.read(null, dec);
    } catch (EOFException e) {
      throw new RecordFormatException(RecordFormatException.Reason.TRUNCATED_PAYLOAD,
          where + ": truncated payload: the Avro body ends before the "
          + type.getSimpleName() + " written with schema id " + id + " is complete (" + data.length + " bytes)",
          e);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw new RecordFormatException(RecordFormatException.Reason.CORRUPT_PAYLOAD,
          where + ": corrupt Avro body for schema id " + id + ": " + e, e);
    }
    try {
      if (!dec.isEnd()) {
        throw new RecordFormatException(RecordFormatException.Reason.CORRUPT_PAYLOAD,
            where + ": corrupt payload: bytes left over after the " + type.getSimpleName()
                + " written with schema id " + id, null);
      }
    } catch (IOException e) {
      throw new SerializationException(where + ": " + e, e);
    }
    return value;
  }
}
