package io.semspai.cli;

import io.semspai.demo.DemoImages;
import io.semspai.engine.BatchModel;
import io.semspai.image.RgbImage;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiBundles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Shared pieces of the engine and stream benchmarks: the mixed-size workload and latency statistics. */
final class BenchWorkload {
  private BenchWorkload() {}

  /** About 40% 512², 40% 1024², 20% odd shapes (300×4000, 150×150), in a fixed shuffled order. */
  static List<RgbImage> mixed(int n, long seed) {
    List<RgbImage> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int k = (int) Math.floorMod(i * 7L + seed, 10);
      DemoImages.Kind kind = i % 2 == 0 ? DemoImages.Kind.CAMERA : DemoImages.Kind.UPSAMPLED;
      RgbImage im = k < 4 ? DemoImages.generate(kind, 512, 512, seed + i)
          : k < 8 ? DemoImages.generate(kind, 1024, 1024, seed + i)
          : k == 8 ? DemoImages.generate(kind, 300, 4000, seed + i)
          : DemoImages.generate(kind, 150, 150, seed + i);
      out.add(im);
    }
    return out;
  }

  static int patches(RgbImage im) {
    int w = Math.max(224, im.width()) / 224;
    int h = Math.max(224, im.height()) / 224;
    return w * h < 4 ? 5 : w * h;
  }

  /** A random-init bundle of the preset, written once under .semspai/bench and reused by later runs. */
  static java.nio.file.Path randomBundle(String preset, long seed) throws Exception {
    java.nio.file.Path dir = java.nio.file.Path.of(System.getProperty("semspai.home", "."), ".semspai", "bench",
        "fusion-" + preset + "-seed" + seed);
    if (!java.nio.file.Files.isDirectory(dir)) {
      System.err.println("bench: writing a random-init " + preset + " bundle to " + dir + " (once)");
      io.semspai.fusion.SemSpaiBundles.writeRandom(dir, io.semspai.fusion.SemSpaiBundles.Preset.named(preset), seed,
          "semspai-bench", "0.0.0-bench-" + preset, "native");
    }
    return dir;
  }

  static BatchModel openModel(java.nio.file.Path bundle) throws Exception {
    return openModel(bundle, io.semspai.nn.Placement.CPU);
  }

  static BatchModel openModel(java.nio.file.Path bundle, io.semspai.nn.Placement placement) throws Exception {
    return io.semspai.engine.ServingModels.open(io.semspai.bundle.ModelBundle.open(bundle), null, placement).model();
  }

  static String latency(double[] ms) {
    double[] s = ms.clone();
    Arrays.sort(s);
    return String.format("p50 %8.1f ms   p99 %8.1f ms", pct(s, 0.50), pct(s, 0.99));
  }

  static double pct(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  static String loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }
}
