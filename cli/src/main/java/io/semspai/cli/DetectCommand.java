package io.semspai.cli;

import io.semspai.config.Settings;
import io.semspai.stream.DetectorApp;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./semspai detect --config FILE}: runs the detection service until stopped. */
@Command(name = "detect", mixinStandardHelpOptions = true,
    description = "Run the Kafka Streams detection service (config file, overridden by SEMSPAI_* variables).")
public final class DetectCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "Properties file; see docs/detector.md for the keys.")
  Path config;

  @Override
  public Integer call() throws Exception {
    Settings settings = Settings.load(config, System.getenv());
    DetectorApp app = new DetectorApp(settings);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close(); // drains in-flight images, leaves the rest parked for the next start
      stopped.countDown();
    }, "detector-shutdown"));
    app.start();
    stopped.await();
    return 0;
  }
}
