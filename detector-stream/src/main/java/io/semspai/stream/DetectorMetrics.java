package io.semspai.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.semspai.avro.Label;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** The detector's meters; names follow Prometheus conventions once exported ({@code semspai_events_in_total}…). */
public final class DetectorMetrics {
  private final MeterRegistry registry;
  private final Counter eventsIn;
  private final Counter resubmitted;
  private final Timer endToEnd;
  private final Timer serviceTime;
  private final Timer modelLatency;
  private final AtomicReference<String> modelVersion = new AtomicReference<>("none");
  private Gauge currentVersionGauge;

  public DetectorMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.eventsIn = Counter.builder("semspai.events.in").description("Image events consumed").register(registry);
    this.resubmitted = Counter.builder("semspai.events.resubmitted")
        .description("Parked events resubmitted after a restart or task migration").register(registry);
    this.endToEnd = Timer.builder("semspai.latency.end_to_end")
        .description("From the event's ingestion timestamp to its verdict").publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofMinutes(10)).register(registry);
    this.serviceTime = Timer.builder("semspai.latency.service")
        .description("From parking an event to forwarding its verdict").publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofMinutes(10)).register(registry);
    this.modelLatency = Timer.builder("semspai.latency.model")
        .description("Model time of one image (engine stages summed)").publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofMinutes(5)).register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  void eventIn() {
    eventsIn.increment();
  }

  void resubmitted(long n) {
    resubmitted.increment(n);
  }

  void verdict(Label label, double serviceMs, double modelMs, Instant ingestedAt, long nowMs) {
    Counter.builder("semspai.events.out").description("Verdicts published").register(registry).increment();
    Counter.builder("semspai.verdicts").description("Verdicts per label (ERROR for failed images)")
        .tag("label", label == null ? "ERROR" : label.name()).register(registry).increment();
    serviceTime.record(Duration.ofNanos((long) (serviceMs * 1e6)));
    if (modelMs > 0) {
      modelLatency.record(Duration.ofNanos((long) (modelMs * 1e6)));
    }
    if (ingestedAt != null && nowMs >= ingestedAt.toEpochMilli()) {
      endToEnd.record(Duration.ofMillis(nowMs - ingestedAt.toEpochMilli()));
    }
  }

  void retried(String reason) {
    Counter.builder("semspai.events.retried").description("Scoring attempts that will be retried (engine busy/closing)")
        .tag("reason", reason).register(registry).increment();
  }

  void releaseRefused(String reason) {
    Counter.builder("semspai.model.releases.refused").description("Model releases refused; the old model kept serving")
        .tag("reason", reason).register(registry).increment();
  }

  void deadLetter(String reason) {
    Counter.builder("semspai.dead_letters").description("Dead letters per reason code").tag("reason", reason)
        .register(registry).increment();
  }

  /** Registers gauges that read live values. */
  void bind(Backpressure backpressure, Supplier<String> version) {
    Gauge.builder("semspai.events.parked", backpressure, Backpressure::parked)
        .description("Events parked, waiting for their verdict").register(registry);
    Gauge.builder("semspai.input.paused", backpressure, b -> b.paused() ? 1 : 0)
        .description("1 while input is paused for backpressure").register(registry);
    modelVersion(version.get());
  }

  /**
   * The model serving now, as the label of a constant-1 gauge (the Prometheus idiom for an info metric): on a swap the
   * old series is removed, so exactly one {@code semspai_model_version} series exists at a time.
   */
  public synchronized void modelVersion(String version) {
    if (version.equals(modelVersion.get()) && currentVersionGauge != null) {
      return;
    }
    if (currentVersionGauge != null) {
      registry.remove(currentVersionGauge);
    }
    currentVersionGauge = Gauge.builder("semspai.model.version", () -> 1).tag("version", version)
        .description("Model version serving verdicts").register(registry);
    modelVersion.set(version);
  }

  /** Batch sizes reported by the engine. */
  public DistributionSummary batchSize() {
    return DistributionSummary.builder("semspai.engine.batch_patches").description("SPAI patches per encoder batch")
        .publishPercentileHistogram().register(registry);
  }
}
