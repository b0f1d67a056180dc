package io.semspai.topics;

import io.semspai.registry.SchemaRegistryClient.Compatibility;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;

/**
 * One topic as a typed value: its name with the serdes of its keys and values, and how it is created. Code never
 * types a topic name or builds a serde anywhere else; it asks {@link Topics} for the topic.
 *
 * @param role what the topic carries, stable across prefixes (used in logs and metrics)
 * @param partitions partitions when the topic is created
 * @param maxMessageBytes the cap on one serialized value: set as the topic's {@code max.message.bytes} and
 *     enforced by the serializer before sending
 * @param configs topic-level configs (cleanup policy, retention, max message bytes)
 * @param valueCompatibility the compatibility rule of the value subject
 */
public record Topic<K, V>(
    String role,
    String name,
    Serde<K> keySerde,
    Serde<V> valueSerde,
    Class<V> valueType,
    int partitions,
    int maxMessageBytes,
    Map<String, String> configs,
    Compatibility valueCompatibility) {}
