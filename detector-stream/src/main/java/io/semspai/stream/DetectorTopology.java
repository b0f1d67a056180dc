package io.semspai.stream;

import io.semspai.avro.internal.ParkedEvent;
import io.semspai.topics.Topics;
import java.time.Duration;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The detector's topology: image events in, verdicts, dead letters and (optionally) features out. Every node and
 * the store are named, so a topology change never orphans the changelog.
 */
final class DetectorTopology {
  static final String SOURCE = "image-events-source";
  static final String PROCESSOR = "detector";

  private DetectorTopology() {}

  @SuppressWarnings("unchecked")
  static Topology build(Topics topics, EventScorer scorer, DetectorRuntime runtime, Duration punctuateEvery,
      boolean publishFeatures) {
    Topology t = new Topology();
    // Values are read as bytes and decoded by the processor, so an undecodable record becomes a dead letter
    // carrying its original bytes instead of stopping the stream.
    t.addSource(SOURCE, Serdes.String().deserializer(), new ByteArrayDeserializer(), topics.imageEvents().name());
    t.addProcessor(PROCESSOR, () -> new DetectionProcessor(topics, scorer, runtime, punctuateEvery, publishFeatures),
        SOURCE);
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DetectionProcessor.STORE),
        Serdes.String(), AvroBinary.serde(ParkedEvent.class)), PROCESSOR);
    t.addSink(DetectionProcessor.VERDICTS, topics.verdicts().name(), Serdes.String().serializer(),
        (Serializer<SpecificRecord>) (Serializer<?>) topics.verdicts().valueSerde().serializer(), PROCESSOR);
    t.addSink(DetectionProcessor.DEAD_LETTERS, topics.deadLetters().name(), Serdes.String().serializer(),
        (Serializer<SpecificRecord>) (Serializer<?>) topics.deadLetters().valueSerde().serializer(), PROCESSOR);
    t.addSink(DetectionProcessor.FEATURES, topics.features().name(), Serdes.String().serializer(),
        (Serializer<SpecificRecord>) (Serializer<?>) topics.features().valueSerde().serializer(), PROCESSOR);
    return t;
  }
}
