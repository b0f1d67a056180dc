package io.semspai.registry;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** Serializer and deserializer of one generated Avro class over the Confluent protocol. */
public final class ConfluentAvroSerde<T extends SpecificRecord> implements Serde<T> {
  private final ConfluentAvroSerializer<T> serializer;
  private final ConfluentAvroDeserializer<T> deserializer;

  public ConfluentAvroSerde(SchemaRegistryClient client, Class<T> type, boolean isKey, int maxBytes) {
    this.serializer = new ConfluentAvroSerializer<>(client, type, isKey, maxBytes);
    this.deserializer = new ConfluentAvroDeserializer<>(client, type);
  }

  @Override
  public Serializer<T> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<T> deserializer() {
    return deserializer;
  }
}
