package io.semspai.cli;

import io.semspai.config.Settings;
import io.semspai.trainer.TrainerApp;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./semspai trainer --config FILE}: the trainer service, until stopped. */
@Command(name = "trainer", mixinStandardHelpOptions = true,
    description = "Run the trainer service: retrain the fusion head from feedback, gate it, publish releases.")
public final class TrainerCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "Properties file; see docs/trainer.md for the keys.")
  Path config;

  @Override
  public Integer call() throws Exception {
    TrainerApp app = new TrainerApp(Settings.load(config, System.getenv()));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close();
      stopped.countDown();
    }, "trainer-shutdown"));
    app.start();
    stopped.await();
    return 0;
  }
}
