package io.semspai.stream;

import io.semspai.avro.DeadLetter;
import io.semspai.avro.FailureStage;
import io.semspai.avro.FeatureVector;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.InlineImage;
import io.semspai.avro.ThresholdProfile;
import io.semspai.avro.Timings;
import io.semspai.avro.Verdict;
import io.semspai.avro.VerdictStatus;
import io.semspai.avro.internal.ParkedEvent;
import io.semspai.registry.RecordFormatException;
import io.semspai.registry.RegistryException;
import io.semspai.topics.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores image events without running inference inside a Streams transaction.
 *
 * <ol>
 *   <li>{@code process} parks the record in a changelogged store (committed with the input offset) and hands the
 *       event to the scorer asynchronously. Undecodable records go straight to the dead-letter topic.
 *   <li>A wall-clock punctuator forwards the outcomes that have completed and deletes their parked entries: the
 *       forward and the delete are in the same transaction, so a crash either keeps both or neither.
 *   <li>{@code init} resubmits every parked entry, after a restart or when the task moved here from another
 *       instance; an outcome produced by the old owner was either committed with its delete or aborted.
 * </ol>
 */
final class DetectionProcessor implements Processor<String, byte[], String, SpecificRecord> {
  private static final Logger log = LoggerFactory.getLogger(DetectionProcessor.class);

  static final String STORE = "parked-events";
  static final String VERDICTS = "verdicts-sink";
  static final String DEAD_LETTERS = "dead-letters-sink";
  static final String FEATURES = "features-sink";

  private record InFlight(CompletableFuture<ScoreOutcome> outcome, ImageEvent event, ParkedEvent parked,
      long submittedNanos) {}

  private final Topics topics;
  private final Deserializer<ImageEvent> events;
  private final EventScorer scorer;
  private final DetectorRuntime runtime;
  private final Duration punctuateEvery;
  private final boolean publishFeatures;

  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, ParkedEvent> store;
  private final ArrayDeque<String> pending = new ArrayDeque<>();
  private final Map<String, InFlight> inFlight = new LinkedHashMap<>();
  private long owned;

  DetectionProcessor(Topics topics, EventScorer scorer, DetectorRuntime runtime, Duration punctuateEvery,
      boolean publishFeatures) {
    this.topics = topics;
    this.events = topics.imageEvents().valueSerde().deserializer();
    this.scorer = scorer;
    this.runtime = runtime;
    this.punctuateEvery = punctuateEvery;
    this.publishFeatures = publishFeatures;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.store = context.getStateStore(STORE);
    try (KeyValueIterator<String, ParkedEvent> it = store.all()) {
      while (it.hasNext()) {
        pending.add(it.next().key);
      }
    }
    owned = pending.size();
    runtime.backpressure().add(owned);
    if (owned > 0) {
      log.info("task {}: resubmitting {} parked events", context.taskId(), owned);
      runtime.metrics().resubmitted(owned);
    }
    context.schedule(punctuateEvery, PunctuationType.WALL_CLOCK_TIME, now -> {
      drainCompleted(now);
      submitPending();
    });
  }

  @Override
  public void process(Record<String, byte[]> record) {
    RecordMetadata md = context.recordMetadata().orElseThrow();
    runtime.metrics().eventIn();
    byte[] value = record.value();
    if (value == null) {
      forwardDeadLetter(record.key(), null, value, md, record.timestamp(), FailureStage.DESERIALIZE, "NULL_VALUE",
          "record has no value (a tombstone?) on an image-events topic");
      return;
    }
    try {
      events.deserialize(md.topic(), value);
    } catch (RecordFormatException e) {
      forwardDeadLetter(record.key(), null, value, md, record.timestamp(), FailureStage.DESERIALIZE,
          e.reason().name(), e.getMessage());
      return;
    } catch (RegistryException e) {
      // The registry is unreachable: this is not the record's fault. Failing the task makes Streams retry it
      // instead of dead-lettering good data.
      throw e;
    } catch (RuntimeException e) {
      forwardDeadLetter(record.key(), null, value, md, record.timestamp(), FailureStage.DESERIALIZE,
          "CORRUPT_PAYLOAD", "record on " + md.topic() + ": " + e);
      return;
    }
    String key = String.format("%05d-%019d", md.partition(), md.offset());
    store.put(key, ParkedEvent.newBuilder().setKey(record.key()).setValue(ByteBuffer.wrap(value))
        .setTopic(md.topic()).setPartition(md.partition()).setOffset(md.offset())
        .setRecordTimestamp(record.timestamp()).setParkedAtMs(System.currentTimeMillis()).build());
    pending.add(key);
    owned++;
    runtime.backpressure().add(1);
    submitPending();
  }

  private void submitPending() {
    Semaphore slots = runtime.inFlightSlots();
    while (!pending.isEmpty() && slots.tryAcquire()) {
      String key = pending.poll();
      ParkedEvent parked = store.get(key);
      if (parked == null) {
        slots.release();
        continue;
      }
      ImageEvent event;
      try {
        event = events.deserialize(parked.getTopic(), bytes(parked.getValue()));
      } catch (RegistryException e) {
        slots.release();
        pending.addFirst(key); // registry briefly unreachable after a restart: try again next punctuation
        log.warn("cannot resubmit parked event {} yet: {}", key, e.getMessage());
        return;
      }
      CompletableFuture<ScoreOutcome> f;
      try {
        f = scorer.score(event);
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      inFlight.put(key, new InFlight(f, event, parked, System.nanoTime()));
    }
  }

  private void drainCompleted(long now) {
    Iterator<Map.Entry<String, InFlight>> it = inFlight.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, InFlight> e = it.next();
      InFlight f = e.getValue();
      if (!f.outcome().isDone()) {
        continue;
      }
      ScoreOutcome outcome;
      try {
        outcome = f.outcome().join();
      } catch (RuntimeException ex) {
        Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
        outcome = new ScoreOutcome.Failed(FailureStage.INTERNAL, "INTERNAL_ERROR", cause.toString(), null,
            runtime.modelVersion());
      }
      it.remove();
      runtime.inFlightSlots().release();
      if (outcome instanceof ScoreOutcome.Failed failed && failed.retryLater()) {
        // Not the image's fault: keep it parked and try again later rather than dead-letter good data.
        pending.addLast(e.getKey());
        runtime.metrics().retried(failed.reasonCode());
        continue;
      }
      publish(f, outcome, now);
      store.delete(e.getKey());
      owned--;
      runtime.backpressure().add(-1);
    }
  }

  private void publish(InFlight f, ScoreOutcome outcome, long now) {
    ImageEvent ev = f.event();
    double totalMs = Math.max(0, now - f.parked().getParkedAtMs());
    Verdict.Builder v = Verdict.newBuilder().setEventId(ev.getEventId()).setProducedAt(Instant.ofEpochMilli(now))
        .setSourcePlatform(ev.getSourcePlatform());
    if (outcome instanceof ScoreOutcome.Detected d) {
      v.setStatus(VerdictStatus.OK).setSha256(d.sha256()).setScore(d.score()).setLabel(d.label())
          .setProfile(new ThresholdProfile(d.profile(), d.tLow(), d.tHigh()))
          .setBranchScores(new io.semspai.avro.BranchScores(d.spectralScore(), d.fusedScore()))
          .setModelVersion(d.modelVersion()).setAttention(d.attention()).setImageWidth(d.width())
          .setImageHeight(d.height()).setDeduplicated(d.deduplicated())
          .setTimings(new Timings(d.fetchMs(), d.decodeMs(), d.queueMs(), d.modelMs(), totalMs));
      context.forward(new Record<>(ev.getEventId(), v.build(), now), VERDICTS);
      runtime.metrics().verdict(d.label(), totalMs, d.modelMs(), ev.getIngestedAt(), now);
      if (publishFeatures && d.features() != null) {
        ScoreOutcome.Features x = d.features();
        FeatureVector fv = FeatureVector.newBuilder().setSha256(d.sha256()).setBackboneSha256(x.backboneSha256())
            .setSpectral(floats(x.spectral())).setSemantic(floats(x.semantic()))
            .setSpaiInputPolicy(x.spaiInputPolicy()).setModelVersion(d.modelVersion())
            .setCreatedAt(Instant.ofEpochMilli(now)).build();
        context.forward(new Record<>(Topics.featureKey(d.sha256(), x.backboneSha256()), fv, now), FEATURES);
      }
    } else {
      ScoreOutcome.Failed x = (ScoreOutcome.Failed) outcome;
      v.setStatus(VerdictStatus.ERROR).setSha256(x.sha256())
          .setError(new io.semspai.avro.VerdictError(x.reasonCode(), x.message()))
          .setModelVersion(x.modelVersion() == null ? runtime.modelVersion() : x.modelVersion())
          .setTimings(new Timings(0.0, 0.0, 0.0, 0.0, totalMs));
      context.forward(new Record<>(ev.getEventId(), v.build(), now), VERDICTS);
      runtime.metrics().verdict(null, totalMs, 0, ev.getIngestedAt(), now);
      ParkedEvent p = f.parked();
      forwardDeadLetter(ev.getEventId(), ev, bytes(p.getValue()), p.getTopic(), p.getPartition(), p.getOffset(),
          p.getRecordTimestamp(), x.stage(), x.reasonCode(), x.message(), now);
    }
  }

  private void forwardDeadLetter(String key, ImageEvent event, byte[] value, RecordMetadata md, long ts,
      FailureStage stage, String reason, String message) {
    forwardDeadLetter(key, event, value, md.topic(), md.partition(), md.offset(), ts, stage, reason, message,
        System.currentTimeMillis());
  }

  private void forwardDeadLetter(String key, ImageEvent event, byte[] value, String topic, int partition,
      long offset, long ts, FailureStage stage, String reason, String message, long now) {
    byte[] original = value == null ? new byte[0] : value;
    int cap = topics.deadLetterCap();
    DeadLetter dl = DeadLetter.newBuilder().setEventId(event == null ? key : event.getEventId())
        .setOriginalValue(ByteBuffer.wrap(original, 0, Math.min(cap, original.length)).slice())
        .setOriginalLength(original.length).setOriginalSha256(sha256(original))
        .setTruncated(original.length > cap).setEvent(event == null ? null : capInline(event, cap))
        .setSourceTopic(topic).setSourcePartition(partition).setSourceOffset(offset).setStage(stage)
        .setReasonCode(reason).setMessage(message == null ? reason : message)
        .setOriginalTimestamp(ts < 0 ? null : Instant.ofEpochMilli(ts)).setFailedAt(Instant.ofEpochMilli(now))
        .build();
    context.forward(new Record<>(dl.getEventId(), dl, now), DEAD_LETTERS);
    runtime.metrics().deadLetter(reason);
  }

  /** The dead letter keeps the decoded event too, with its inline bytes cut to the same cap. */
  private static ImageEvent capInline(ImageEvent event, int cap) {
    if (event.getImage() instanceof InlineImage img && img.getData().remaining() > cap) {
      ByteBuffer d = img.getData().duplicate();
      d.limit(d.position() + cap);
      return ImageEvent.newBuilder(event).setImage(new InlineImage(d.slice(), img.getContentType())).build();
    }
    return event;
  }

  @Override
  public void close() {
    // The task is closing (shutdown, rebalance): outcomes still running are dropped; the parked entries stay in
    // the store and are resubmitted by whichever instance owns the task next.
    runtime.inFlightSlots().release(inFlight.size());
    runtime.backpressure().add(-owned);
    inFlight.clear();
    pending.clear();
    owned = 0;
  }

  long parkedHere() {
    return owned;
  }

  private static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  private static java.util.List<Float> floats(float[] a) {
    if (a == null) {
      return java.util.List.of();
    }
    Float[] boxed = new Float[a.length];
    for (int i = 0; i < a.length; i++) {
      boxed[i] = a[i];
    }
    return Arrays.asList(boxed);
  }

  static String sha256(byte[] b) {
    return io.semspai.bundle.Sha256.of(b);
  }
}
