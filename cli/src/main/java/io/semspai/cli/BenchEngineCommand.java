package io.semspai.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.engine.BatchModel;
import io.semspai.engine.Detection;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.StageTimes;
import io.semspai.image.RgbImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./semspai bench engine}: the same mixed-size workload scored (1) one image at a time through the model and
 * (2) through the batched engine with concurrent callers, in one run, on this machine's CPU.
 */
@Command(name = "engine", mixinStandardHelpOptions = true,
    description = "Sequential vs batched engine on a mixed-size workload (40% 512², 40% 1024², 20% odd shapes).")
public final class BenchEngineCommand implements Callable<Integer> {
  @Option(names = "--preset", defaultValue = "tiny", description = "tiny or full (random init), default ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--model", description = "Bench this bundle instead of a random-init preset.")
  Path model;

  @Option(names = "--images", description = "Images in the workload (default: 40 for tiny, 10 for full).")
  Integer images;

  @Option(names = "--callers", defaultValue = "8", description = "Concurrent callers in batched mode (default ${DEFAULT-VALUE}).")
  int callers;

  @picocli.CommandLine.Mixin DeviceOptions deviceOptions;

  @Option(names = "--max-batch-patches", defaultValue = "32", description = "Engine batch cap (default ${DEFAULT-VALUE}).")
  int maxBatchPatches;

  @Override
  public Integer call() throws Exception {
    if (!preset.equals("tiny") && !preset.equals("full")) {
      throw new UserError("--preset must be tiny or full, got '" + preset + "'");
    }
    int n = images != null ? images : preset.equals("tiny") ? 40 : 10;
    if (n < 1 || callers < 1 || maxBatchPatches < 1) {
      throw new UserError("--images, --callers and --max-batch-patches must be positive");
    }
    io.semspai.nn.Placement placement = deviceOptions.placement();
    Path bundle = model != null ? model : BenchWorkload.randomBundle(preset, 1);
    List<RgbImage> work = BenchWorkload.mixed(n, 11);
    int totalPatches = work.stream().mapToInt(BenchWorkload::patches).sum();
    System.out.printf("bench engine: %s on %s, %d images, %d patches, %d CPU cores, load average %s%n",
        model != null ? model : "random-init " + preset, placement.describe(), n, totalPatches,
        Runtime.getRuntime().availableProcessors(),
        BenchWorkload.loadAverage());

    double[] seqMs = new double[n];
    double seqSeconds;
    try (BatchModel m = BenchWorkload.openModel(bundle, placement)) {
      m.run(List.of(m.prepare(work.get(0))), maxBatchPatches, new StageTimes()); // warm-up
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long s = System.nanoTime();
        m.run(List.of(m.prepare(work.get(i))), maxBatchPatches, new StageTimes());
        seqMs[i] = (System.nanoTime() - s) / 1e6;
      }
      seqSeconds = (System.nanoTime() - t0) / 1e9;
    }
    report("sequential", n, totalPatches, seqSeconds, seqMs);

    double[] batMs = new double[n];
    double batSeconds;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    var opts = InferenceEngine.Options.defaults(64L << 20).withMaxBatchPatches(maxBatchPatches)
        .withMaxDelay(Duration.ofMillis(20)).withCache(0);
    try (InferenceEngine e = new InferenceEngine(BenchWorkload.openModel(bundle, placement), opts, meters)) {
      e.submit(work.get(0), "warm", 0).get();
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      long t0 = System.nanoTime();
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        all.add(CompletableFuture.runAsync(() -> {
          long s = System.nanoTime();
          Detection d = e.submit(work.get(k), "img" + k, 0).join();
          batMs[k] = (System.nanoTime() - s) / 1e6;
          if (d.output() == null) {
            throw new IllegalStateException("no output");
          }
        }, pool));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(6, TimeUnit.HOURS);
      batSeconds = (System.nanoTime() - t0) / 1e9;
      pool.shutdown();
    }
    report("batched (" + callers + " callers)", n, totalPatches, batSeconds, batMs);
    var patchesPerBatch = meters.get("semspai.engine.batch.patches").summary();
    System.out.printf("engine batches: %d, patches per batch mean %.1f, max %.0f%n", patchesPerBatch.count(),
        patchesPerBatch.mean(), patchesPerBatch.max());
    System.out.printf("ratio batched/sequential = %.2f%n", (n / batSeconds) / (n / seqSeconds));
    return 0;
  }

  private static void report(String mode, int n, int patches, double seconds, double[] ms) {
    System.out.printf("%-24s %8.2f images/s %9.2f patches/s   %s%n", mode, n / seconds, patches / seconds,
        BenchWorkload.latency(ms));
  }
}
