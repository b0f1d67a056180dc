package io.semspai.stream;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A detector in its own JVM, so a test can kill it with SIGKILL: args are bootstrap servers, registry URL, topic
 * prefix, application id, state dir, scorer delay in ms. Prints "parked N" lines the test watches.
 */
public final class DetectorTestMain {
  private DetectorTestMain() {}

  public static void main(String[] args) throws Exception {
    SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.of(args[1]));
    Topics topics = new Topics(args[2], registry);
    DetectorService.Options o = new DetectorService.Options(args[0], args[3], Path.of(args[4]), 8, 1000,
        Duration.ofMillis(100), Duration.ofSeconds(1), false, 1,
        Map.of("commit.interval.ms", "100", "consumer.session.timeout.ms", "6000"));
    DetectorService s = new DetectorService(o, topics, registry, new DelayScorer(Long.parseLong(args[5])),
        new DetectorMetrics(new SimpleMeterRegistry()), () -> "test-1");
    s.start();
    while (true) {
      System.out.println("parked " + s.parked() + " state " + s.state());
      System.out.flush();
      Thread.sleep(200);
    }
  }
}
