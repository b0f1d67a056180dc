package io.semspai.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes a generated Avro class in the Confluent wire format, registering (or looking up) its schema under the
 * TopicNameStrategy subject {@code <topic>-value} / {@code <topic>-key}. A record over {@code maxBytes} is refused
 * here, before anything is sent, so no partial record ever reaches a topic.
 */
public final class ConfluentAvroSerializer<T extends SpecificRecord> implements Serializer<T> {
  private final SchemaRegistryClient client;
  private final Schema schema;
  private final SpecificDatumWriter<T> writer;
  private final boolean isKey;
  private final int maxBytes;

  public ConfluentAvroSerializer(SchemaRegistryClient client, Class<T> type, boolean isKey, int maxBytes) {
    this.client = client;
    this.schema = SpecificData.get().getSchema(type);
    this.writer = new SpecificDatumWriter<>(schema, SpecificData.getForClass(type));
    this.isKey = isKey;
    this.maxBytes = maxBytes;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // Built fully by the constructor; the topic definitions own serde construction.
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    String subject = Subjects.forTopic(topic, isKey);
    int id = client.config().autoRegister() ? client.register(subject, schema) : client.lookup(subject, schema);
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(ConfluentWireFormat.MAGIC);
    out.write(id >>> 24);
    out.write(id >>> 16);
    out.write(id >>> 8);
    out.write(id);
    try {
      BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
      writer.write(data, enc);
      enc.flush();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("cannot write " + schema.getFullName() + " for topic " + topic + ": " + e, e);
    }
    if (out.size() > maxBytes) {
      throw new RecordTooLargeException(String.format(
          "%s for topic %s is %d bytes, over the topic's cap of %d bytes; nothing was sent "
              + "(send large images by reference instead of inline)",
          schema.getName(), topic, out.size(), maxBytes));
    }
    return out.toByteArray();
  }
}
