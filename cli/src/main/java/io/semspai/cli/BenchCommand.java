package io.semspai.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.semspai.image.RgbImage;
import io.semspai.nn.Placement;
import io.semspai.spai.FrequencyMask;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiFlops;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiPatches;
import io.semspai.spai.SpaiRandomInit;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code semspai bench ...}: throughput measurements on this machine. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks that print their numbers: the SPAI forward, the batched engine, the streaming service.",
    subcommands = {BenchCommand.Spai.class, BenchEngineCommand.class, BenchStreamCommand.class})
public final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing benchmark: choose spai, engine or stream.");
  }

  enum Preset {
    tiny,
    full
  }

  /**
   * SPAI patches/s and images/s at several input sizes, against this machine's fp32 GEMM throughput measured in the
   * same run. Images are synthetic noise (the time does not depend on content); each size gets one unmeasured
   * warm-up image, then images are scored one at a time, as {@code infer} does, for at least {@code --seconds}.
   */
  @Command(name = "spai", mixinStandardHelpOptions = true,
      description = "Benchmark the SPAI forward on CPU: patches/s and images/s for 224², 512² and 1024² inputs,"
          + " FLOPs per patch from the config, and the fraction of this machine's fp32 GEMM throughput reached.")
  static final class Spai implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", defaultValue = "full",
        description = "Model size with random weights: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    Preset preset;

    @Option(names = "--model", paramLabel = "DIR", description = "Benchmark this bundle instead of random weights.")
    Path model;

    @Option(names = "--seconds", defaultValue = "20",
        description = "Measure each input size for at least this long (at least one image; default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--min-images", defaultValue = "3",
        description = "Measure at least this many images per size (default ${DEFAULT-VALUE}).")
    int minImages;

    @Option(names = "--sizes", split = ",", defaultValue = "224,512,1024",
        description = "Square input sizes in px (default ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--threads", description = "libtorch intra-op threads (default: libtorch's choice).")
    Integer threads;

    @Option(names = "--gemm-size", defaultValue = "2048",
        description = "n of the n×n·n×n fp32 GEMM that measures the machine's peak (default ${DEFAULT-VALUE}).")
    int gemmSize;

    @picocli.CommandLine.Mixin DeviceOptions deviceOptions;

    @Option(names = "--encoder-batch", description = "Patches per encoder call (default "
        + SpaiModel.DEFAULT_ENCODER_BATCH + ").")
    Integer encoderBatch;

    @Override
    public Integer call() throws IOException {
      PrintWriter o = spec.commandLine().getOut();
      if (threads != null && threads < 1) {
        throw new UserError("--threads must be positive");
      }
      if (seconds < 0 || minImages < 1 || sizes.stream().anyMatch(s -> s < 1) || gemmSize < 16) {
        throw new UserError("--seconds must be ≥ 0, --min-images and --sizes positive, --gemm-size at least 16");
      }
      if (encoderBatch != null && encoderBatch < 1) {
        throw new UserError("--encoder-batch must be positive");
      }
      Engine engine = Engine.getInstance(); // loads libtorch; its thread pool can be sized only after that
      int threadsBefore = JniUtils.getNumThreads();
      if (threads != null) {
        JniUtils.setNumThreads(threads);
      }
      try {
        return run(o, engine);
      } finally {
        JniUtils.setNumThreads(threadsBefore); // the setting is process-wide; leave it as found
      }
    }

    private int run(PrintWriter o, Engine engine) throws IOException {
      int batch = encoderBatch != null ? encoderBatch : SpaiModel.DEFAULT_ENCODER_BATCH;
      String loadStart = loadAverage();
      o.println("SPAI CPU benchmark, " + ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME));
      o.println("machine: " + Runtime.getRuntime().availableProcessors() + " CPUs, " + cpuModel() + "; JDK "
          + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
      o.println("engine: DJL " + Engine.getDjlVersion() + ", " + engine.getEngineName() + " " + engine.getVersion()
          + " (" + engine.defaultDevice() + "), intra-op threads " + JniUtils.getNumThreads() + ", inter-op "
          + JniUtils.getNumInteropThreads());
      o.println("load average at start: " + loadStart);
      o.flush();

      long t0 = System.nanoTime();
      Placement placement = deviceOptions.placement();
      SpaiModel m = model != null ? Bundles.loadSpai(model, placement)
          : randomModel(SpaiConfig.preset(preset.name()), placement);
      try (m) {
        SpaiConfig cfg = m.config();
        o.printf(Locale.ROOT, "model: %s, %s in %.1f s, on %s (FFT in fp32)%n", model != null ? "bundle " + model
            : preset + " preset, random weights", describe(cfg), (System.nanoTime() - t0) / 1e9,
            placement.describe());
        SpaiFlops flops = SpaiFlops.of(cfg);
        o.printf(Locale.ROOT, "FLOPs per patch (counted from the config): %.2f GFLOP = 3 ViT passes × %.2f + FRE"
            + " projectors %.2f + importance projector %.3f + SCA keys %.4f; per image + %.3f GFLOP (SCA, head)%n",
            flops.perPatch() / 1e9, flops.vitPass() / 1e9, flops.freProjectors() / 1e9,
            flops.importanceProjector() / 1e9, flops.scaKeys() / 1e9, flops.perImageBase() / 1e9);
        o.flush();

        Gemm gemm = gemm(gemmSize);
        o.printf(Locale.ROOT, "fp32 GEMM %d×%d·%d×%d (DJL matMul, warmed up): best %.1f GFLOP/s, median %.1f over %d"
            + " runs; measured again before each row below%n", gemmSize, gemmSize, gemmSize, gemmSize, gemm.best / 1e9,
            gemm.median / 1e9, gemm.runs);
        o.println();
        o.flush();

        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"input", "crop", "patches", "encoded", "images", "s/image", "images/s", "patches/s",
            "s/patch", "best s/patch", "cpu-s/patch", "best GFLOP/s", "GEMM GFLOP/s", "of GEMM"});
        for (int size : sizes) {
          Gemm g = gemm(gemmSize);
          Row r = measure(m, size, batch, seconds, minImages);
          double perImage = r.medianSeconds;
          double gflops = flops.perImage(r.encoded) / r.bestSeconds / 1e9;
          rows.add(new String[] {size + "²", r.crop, Integer.toString(r.patches), Integer.toString(r.encoded),
              Integer.toString(r.images), f(perImage, 2), f(1 / perImage, 3), f(r.encoded / perImage, 3),
              f(perImage / r.encoded, 3), f(r.bestSeconds / r.encoded, 3), f(r.cpuSecondsPerImage / r.encoded, 2),
              f(gflops, 1), f(g.best / 1e9, 1), f(100 * gflops * 1e9 / g.best, 1) + "%"});
          o.flush();
        }
        printTable(o, rows);
        o.println("s/image, images/s, patches/s, s/patch: median over the measured images (what a user sees)."
            + "\n  best s/patch, best GFLOP/s: the fastest image (what the machine can do), against the best GEMM"
            + "\n  measured just before the row: that ratio is 'of GEMM'. Patch counts, times and FLOPs are of the"
            + "\n  patches actually encoded (a 224² image five-crops into one patch five times, encoded once).");
        String loadEnd = loadAverage();
        o.println();
        o.println("load average at end: " + loadEnd);
        double load = Math.max(firstLoad(loadStart), firstLoad(loadEnd));
        int cpus = Runtime.getRuntime().availableProcessors();
        if (load > 0.5 * cpus + 0.5) {
          int t = JniUtils.getNumThreads();
          o.printf(Locale.ROOT, "note: a 1-minute load average of %.2f on %d CPUs means other processes were running:"
              + " medians are lower bounds%s%n", load, cpus, t > 1 ? ", and libtorch's " + t + " threads wait on each"
              + " other whenever one is descheduled (--threads 1 can then be faster)" : "");
        }
        o.printf(Locale.ROOT, "upstream anchor (spec §6): PyTorch 1.13 + OpenBLAS, 2 cores, ~1.3 s per full-size patch"
            + " with 4-5 patches per call, ~100 GFLOP/s = ~44%% of its ~226 GFLOP/s GEMM%n");
        o.flush();
      }
      return 0;
    }

    private static String describe(SpaiConfig c) {
      return String.format(Locale.ROOT, "ViT %d×%d (patch %d, %d heads), FRE %d layers → %d, feature %d",
          c.vit().embedDim(), c.vit().depth(), c.vit().patchSize(), c.vit().numHeads(), c.fre().layers(),
          c.fre().projectionDim(), c.featureDim());
    }

    /** Random spread weights straight into native memory (no file, no head calibration: speed only). */
    static SpaiModel randomModel(SpaiConfig cfg, Placement placement) {
      var expect = SpaiModel.expectation(cfg);
      NDManager manager = placement.newManager();
      try {
        Map<String, NDArray> state = new LinkedHashMap<>();
        for (Map.Entry<String, Shape> e : expect.shapes().entrySet()) {
          if (expect.dataTypes().get(e.getKey()) == DataType.INT64) {
            state.put(e.getKey(), manager.create(FrequencyMask.generate(cfg.vit().imgSize(), cfg.fre().maskingRadius()),
                e.getValue()));
          } else {
            state.put(e.getKey(), manager.create(SpaiRandomInit.values(e.getKey(), e.getValue().getShape(), 1),
                e.getValue()));
          }
        }
        return SpaiModel.fromArrays(cfg, state, manager, placement);
      } catch (RuntimeException e) {
        manager.close();
        throw e;
      }
    }

    record Gemm(double best, double median, int runs) {}

    /** Best and median fp32 GEMM throughput: 3 warm-up products, then at least 5 timed ones and about 2 s. */
    static Gemm gemm(int n) {
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray a = m.randomNormal(new Shape(n, n));
        NDArray b = m.randomNormal(new Shape(n, n));
        for (int i = 0; i < 3; i++) {
          a.matMul(b).close();
        }
        List<Double> times = new ArrayList<>();
        long start = System.nanoTime();
        while (times.size() < 5 || (System.nanoTime() - start < 2_000_000_000L && times.size() < 50)) {
          long t = System.nanoTime();
          NDArray c = a.matMul(b);
          times.add((System.nanoTime() - t) / 1e9);
          c.close();
        }
        double[] s = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double flop = 2.0 * n * n * n;
        return new Gemm(flop / s[0], flop / s[s.length / 2], s.length);
      }
    }

    record Row(String crop, int patches, int encoded, int images, double medianSeconds, double bestSeconds,
        double cpuSecondsPerImage) {}

    static Row measure(SpaiModel m, int size, int batch, double seconds, int minImages) {
      RgbImage image = noise(size, size, size);
      SpaiPatches patches = m.inputPolicy().patches(image);
      String crop = patches.crop() == SpaiPatches.Crop.FIVE_CROP ? "five-crop"
          : "grid " + (int) Math.sqrt(patches.count()) + "×" + (int) Math.sqrt(patches.count());
      m.score(m.inputPolicy().patches(image), batch); // warm-up, not measured
      List<Double> times = new ArrayList<>();
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      do {
        long t = System.nanoTime();
        m.score(m.inputPolicy().patches(image), batch);
        times.add((System.nanoTime() - t) / 1e9);
      } while (times.size() < minImages || System.nanoTime() - t0 < seconds * 1e9);
      double cpu = (processCpuNanos() - cpu0) / 1e9;
      double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
          : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
      return new Row(crop, patches.count(), SpaiModel.distinctPatches(patches), times.size(), median, sorted[0],
          cpu / times.size());
    }

    private static RgbImage noise(int w, int h, long seed) {
      byte[] rgb = new byte[w * h * 3];
      SplittableRandom r = new SplittableRandom(seed);
      for (int i = 0; i < rgb.length; i++) {
        rgb[i] = (byte) r.nextInt(256);
      }
      return new RgbImage(w, h, rgb);
    }

    private static long processCpuNanos() {
      if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
        return os.getProcessCpuTime();
      }
      return 0;
    }

    static String loadAverage() {
      try {
        String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
        return String.join(" ", Arrays.copyOf(parts, 3)) + " (1, 5, 15 min)";
      } catch (IOException | RuntimeException e) {
        double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f (1 min)", l);
      }
    }

    private static double firstLoad(String s) {
      try {
        return Double.parseDouble(s.split(" ")[0]);
      } catch (RuntimeException e) {
        return 0;
      }
    }

    static String cpuModel() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
          if (line.startsWith("model name")) {
            return line.substring(line.indexOf(':') + 1).trim();
          }
        }
      } catch (IOException | RuntimeException e) {
        // not Linux: fall through
      }
      return System.getProperty("os.arch");
    }

    private static String f(double v, int decimals) {
      return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static void printTable(PrintWriter o, List<String[]> rows) {
      int[] w = new int[rows.get(0).length];
      for (String[] r : rows) {
        for (int i = 0; i < r.length; i++) {
          w[i] = Math.max(w[i], r[i].length());
        }
      }
      for (int k = 0; k < rows.size(); k++) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
          String cell = rows.get(k)[i];
          String pad = " ".repeat(w[i] - cell.length());
          sb.append(i < 2 ? cell + pad : pad + cell).append(i + 1 < w.length ? "  " : "");
        }
        o.println(sb.toString().stripTrailing());
        if (k == 0) {
          o.println("-".repeat(sb.toString().stripTrailing().length()));
        }
      }
    }
  }
}
