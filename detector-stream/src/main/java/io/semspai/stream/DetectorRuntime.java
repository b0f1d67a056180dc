package io.semspai.stream;

import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/** State shared by every task of one detector instance: backpressure, the in-flight cap, metrics, model version. */
final class DetectorRuntime {
  private final Backpressure backpressure;
  private final Semaphore inFlightSlots;
  private final DetectorMetrics metrics;
  private final Supplier<String> modelVersion;

  DetectorRuntime(Backpressure backpressure, int maxInFlight, DetectorMetrics metrics, Supplier<String> modelVersion) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("max in-flight events must be at least 1, got " + maxInFlight);
    }
    this.backpressure = backpressure;
    this.inFlightSlots = new Semaphore(maxInFlight);
    this.metrics = metrics;
    this.modelVersion = modelVersion;
    metrics.bind(backpressure, modelVersion);
  }

  Backpressure backpressure() {
    return backpressure;
  }

  Semaphore inFlightSlots() {
    return inFlightSlots;
  }

  DetectorMetrics metrics() {
    return metrics;
  }

  String modelVersion() {
    return modelVersion.get();
  }
}
