package io.semspai.stream;

import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.topics.TopicSetup;
import io.semspai.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detection service's lifecycle: {@link #start()} creates missing topics, registers the schemas and runs the
 * topology under exactly-once v2; {@link #close()} stops taking input, lets in-flight images finish for up to the
 * drain timeout, and closes. Whatever is still parked then is resubmitted on the next start.
 */
public final class DetectorService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DetectorService.class);

  /**
   * @param bootstrapServers Kafka bootstrap servers
   * @param applicationId Streams application id (consumer group, changelog and transactional id prefix)
   * @param stateDir where the parked-events store lives
   * @param maxInFlight images handed to the scorer at once, per instance
   * @param maxParked parked events at which input pauses
   * @param punctuateEvery how often completed verdicts are forwarded
   * @param drainTimeout how long close() waits for in-flight images
   * @param publishFeatures whether each OK image's features go to the features topic
   * @param streamsOverrides any other Streams/client settings
   */
  public record Options(String bootstrapServers, String applicationId, Path stateDir, int maxInFlight, int maxParked,
      Duration punctuateEvery, Duration drainTimeout, boolean publishFeatures, int threads,
      Map<String, String> streamsOverrides) {}

  private final Options options;
  private final Topics topics;
  private final SchemaRegistryClient registry;
  private final EventScorer scorer;
  private final DetectorMetrics metrics;
  private final Backpressure backpressure;
  private final DetectorRuntime runtime;
  private KafkaStreams streams;
  private KafkaStreamsMetrics streamsMetrics;

  public DetectorService(Options options, Topics topics, SchemaRegistryClient registry, EventScorer scorer,
      DetectorMetrics metrics, Supplier<String> modelVersion) {
    this.options = options;
    this.topics = topics;
    this.registry = registry;
    this.scorer = scorer;
    this.metrics = metrics;
    this.backpressure = new Backpressure(options.maxParked());
    this.runtime = new DetectorRuntime(backpressure, options.maxInFlight(), metrics, modelVersion);
  }

  public synchronized void start() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers()))) {
      TopicSetup.createMissing(admin, topics.all());
    }
    TopicSetup.registerSchemas(registry, topics.all());
    streams = new KafkaStreams(DetectorTopology.build(topics, scorer, runtime, options.punctuateEvery(),
        options.publishFeatures()), streamsConfig(), new BackpressureClientSupplier(backpressure));
    streams.setUncaughtExceptionHandler(e -> {
      log.error("stream thread failed; replacing it", e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
          .REPLACE_THREAD;
    });
    streamsMetrics = new KafkaStreamsMetrics(streams);
    streamsMetrics.bindTo(metrics.registry());
    streams.start();
    log.info("detector started: application {} reading {}, exactly_once_v2", options.applicationId(),
        topics.imageEvents().name());
  }

  Properties streamsConfig() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, options.applicationId());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.STATE_DIR_CONFIG, options.stateDir().toString());
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, options.threads());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // Inline images can be near the topic cap: let a fetch carry one.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
        Integer.toString(Math.max(1 << 20, topics.imageEvents().maxMessageBytes() + 8192)));
    p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
        Integer.toString(Math.max(1 << 20, topics.deadLetters().maxMessageBytes() + 8192)));
    // Streams 4.x warns unless this is explicit; the detector's topology has no global state, so it changes nothing.
    p.put("processing.exception.handler.global.enabled", "true");
    Map<String, String> o = new HashMap<>(options.streamsOverrides());
    o.forEach(p::put);
    return p;
  }

  public synchronized KafkaStreams.State state() {
    return streams == null ? KafkaStreams.State.CREATED : streams.state();
  }

  public boolean running() {
    return state() == KafkaStreams.State.RUNNING;
  }

  public long parked() {
    return backpressure.parked();
  }

  public Backpressure backpressure() {
    return backpressure;
  }

  /** Stops input, waits up to the drain timeout for in-flight images, then closes Streams. */
  @Override
  public synchronized void close() {
    if (streams == null) {
      return;
    }
    backpressure.hold();
    long deadline = System.nanoTime() + options.drainTimeout().toNanos();
    int inFlightAtStart = options.maxInFlight() - runtime.inFlightSlots().availablePermits();
    if (inFlightAtStart > 0) {
      log.info("draining {} in-flight images (up to {} s)", inFlightAtStart, options.drainTimeout().toSeconds());
    }
    while (runtime.inFlightSlots().availablePermits() < options.maxInFlight() && System.nanoTime() < deadline
        && streams.state().isRunningOrRebalancing()) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    streams.close(CloseOptions.timeout(Duration.ofSeconds(30)));
    if (streamsMetrics != null) {
      streamsMetrics.close();
    }
    log.info("detector stopped; {} events stay parked for the next start", backpressure.parked());
    streams = null;
  }
}
