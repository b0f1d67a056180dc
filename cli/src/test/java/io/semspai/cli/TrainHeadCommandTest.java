package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.semspai.demo.DemoImages;
import io.semspai.fusion.HeadBundle;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-head} end to end on a tiny random-init bundle and the demo's two image kinds (CAMERA real,
 * UPSAMPLED "AI"), written as PNGs with an upstream-layout CSV.
 */
class TrainHeadCommandTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  static Path bundle;
  static Path images;

  @BeforeAll
  static void setUp() throws IOException {
    bundle = shared.resolve("bundle");
    // resize:224 on 224² images: one SPAI patch each, the same pixels
    CliRun r = CliRun.of("model", "init", "--preset", "tiny", "--seed", "3", "--input-policy", "resize:224", "--out",
        bundle.toString());
    assertEquals(0, r.exit(), r.err());
    images = shared.resolve("imgs");
    Files.createDirectories(images);
    for (int i = 0; i < 150; i++) {
      for (DemoImages.Kind kind : DemoImages.Kind.values()) {
        png(DemoImages.generate(kind, 224, 224, 500 + i), images.resolve(kind.name().toLowerCase() + i + ".png"));
      }
    }
  }

  static void png(RgbImage img, Path file) throws IOException {
    BufferedImage bi = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
    byte[] rgb = img.rgb();
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < img.width(); x++) {
        int i = 3 * (y * img.width() + x);
        bi.setRGB(x, y, (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | rgb[i + 2] & 0xff);
      }
    }
    ImageIO.write(bi, "png", file.toFile());
  }

  /** A CSV over the first {@code n} images of each kind; split by index unless {@code splits} is false. */
  static Path csv(Path dir, int n, boolean splits, boolean shuffleLabels) throws IOException {
    return csv(dir, n, splits, shuffleLabels, "imgs/");
  }

  static Path csv(Path dir, int n, boolean splits, boolean shuffleLabels, String prefix) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(splits ? "image,class,split" : "image,class");
    int[] labels = new int[2 * n];
    for (int i = 0; i < 2 * n; i++) {
      labels[i] = i % 2;
    }
    if (shuffleLabels) {
      SplittableRandom r = new SplittableRandom(1);
      for (int i = labels.length - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = labels[i];
        labels[i] = labels[j];
        labels[j] = t;
      }
    }
    for (int i = 0; i < n; i++) {
      String split = i < n * 0.6 ? "train" : i < n * 0.75 ? "val" : "test";
      for (int c = 0; c < 2; c++) {
        if (splits && split.equals("test") && c == 0 && i % 2 == 1) {
          continue; // a 2:1 AI:real holdout (see aSeparableSetIsPromoted…)
        }
        String file = (c == 0 ? "camera" : "upsampled") + i + ".png";
        lines.add(prefix + file + "," + labels[2 * i + c] + (splits ? "," + split : ""));
      }
    }
    Files.createDirectories(dir);
    Path csv = dir.resolve("labels.csv");
    Files.write(csv, lines);
    return csv;
  }

  /**
   * The holdout is 2:1 AI:real. On an exactly balanced one the random-init champion's scores, all near 0.5, are
   * perfectly calibrated (ECE ≈ 0), so the gate's ECE check alone would demand ECE ≤ 0.05 of a challenger judged on
   * a few dozen images (see docs/trainer.md, "The gate against a random-init champion").
   */
  @Test
  void aSeparableSetIsPromotedAndTheHeadBundleSwapsIn() throws Exception {
    Path csv = csv(shared.resolve("csv"), 150, true, false);
    Path out = tmp.resolve("head");
    CliRun r = CliRun.of("train-head", "--model", bundle.toString(), "--csv", csv.toString(), "--csv-root",
        shared.toString(), "--seed", "4", "--out", out.toString());
    String all = r.out() + "\n--- stderr ---\n" + r.err();
    assertEquals(0, r.exit(), all);
    assertTrue(r.out().contains("(180 train, 46 val, 55 holdout; 55 derivatives)"), all);
    assertTrue(r.out().contains("holdout: the test rows"), all);
    for (String row : List.of("AUC", "AP", "balanced accuracy @ t_high", "ECE", "real-image FPR @ t_high",
        "perturbed AUC")) {
      assertTrue(r.out().lines().anyMatch(l -> l.startsWith(row)), row + "\n" + all);
    }
    assertTrue(r.out().contains("PROMOTED: the challenger passes every check"), all);
    assertTrue(r.out().contains("wrote " + out), all);
    assertTrue(r.err().contains("features ["), "a progress bar: " + all);
    assertTrue(r.err().contains("epoch   1  train loss"), all);

    HeadBundle hb = HeadBundle.open(out);
    assertEquals("0.1.1", hb.version());
    assertEquals("semspai-tiny-random-seed3-head", hb.name());
    assertTrue(hb.thresholds().calibrated());
    JsonNode release = hb.bundle().manifest().other().get("release");
    assertEquals("PROMOTED", release.get("status").asText());
    assertTrue(release.path("metrics").path("challenger").path("auc").asDouble() >= 0.95, release.toString());
    assertEquals(55, release.path("holdout").path("images").asInt());
    assertEquals(55, release.path("holdout").path("perturbed_images").asInt());
    try (SemSpaiModel m = SemSpaiModel.load(bundle); SemSpaiModel swapped = m.swapHead(hb)) {
      assertEquals("0.1.1", swapped.version());
    }
  }

  @Test
  void shuffledLabelsAreRejectedAndOnlyForceWritesTheBundleMarkedRejected() throws Exception {
    Path csv = csv(tmp.resolve("csv"), 40, false, true);
    CliRun refused = CliRun.of("train-head", "--model", bundle.toString(), "--csv", csv(tmp.resolve("up"), 3, false, false,
        "../../" + tmp.relativize(images) + "/").toString());
    assertEquals(2, refused.exit(), refused.err());
    assertTrue(refused.err().contains("note: images are read only below --csv-root"), refused.err());
    Path out = tmp.resolve("head");
    CliRun r = CliRun.of("train-head", "--model", bundle.toString(), "--csv", csv.toString(), "--csv-root",
        shared.toString(), "--epochs", "30", "--augment", "--k", "1", "--out", out.toString());
    String all = r.out() + "\n--- stderr ---\n" + r.err();
    assertEquals(TrainHeadCommand.REJECTED, r.exit(), all);
    assertTrue(r.out().matches("(?s).*training: \\d+ real / \\d+ AI examples \\([1-9]\\d* derivatives\\).*"), all);
    assertTrue(r.out().contains("holdout: images whose sha256 is 0 mod 5 (no test rows)"), all);
    assertTrue(r.out().contains("REJECTED:"), all);
    assertTrue(r.out().contains("FAILED AUC"), all);
    assertTrue(r.out().contains("not written"), all);
    assertFalse(Files.exists(out));

    CliRun forced = CliRun.of("train-head", "--model", bundle.toString(), "--csv", csv.toString(), "--csv-root",
        shared.toString(), "--epochs", "30", "--out", out.toString(), "--force", "--out-version",
        "0.0.7-rejected");
    assertEquals(TrainHeadCommand.REJECTED, forced.exit(), forced.out() + forced.err());
    HeadBundle hb = HeadBundle.open(out);
    assertEquals("0.0.7-rejected", hb.version());
    assertEquals("REJECTED", hb.bundle().manifest().other().get("release").get("status").asText());
  }

  @Test
  void badInputIsAOneLineUserError() throws IOException {
    Path noClass = tmp.resolve("noclass.csv");
    Files.writeString(noClass, "image,split\na.png,train\n");
    CliRun r = CliRun.of("train-head", "--model", bundle.toString(), "--csv", noClass.toString());
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.err().contains("no 'class' column"), r.err());
    r = CliRun.of("train-head", "--model", bundle.toString(), "--csv", noClass.toString(), "--force");
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.err().contains("give --out"), r.err());
    Path oneClass = tmp.resolve("one.csv");
    List<String> lines = new ArrayList<>(List.of("image,class,split"));
    for (int i = 0; i < 6; i++) {
      lines.add(images.resolve("camera" + i + ".png") + ",0," + (i < 4 ? "train" : "test"));
    }
    Files.write(oneClass, lines);
    r = CliRun.of("train-head", "--model", bundle.toString(), "--csv", oneClass.toString(), "--csv-root",
        images.toString());
    assertEquals(2, r.exit(), r.out() + r.err());
    assertTrue(r.err().contains("cannot train: training needs real and AI images"), r.err());
  }

  /** The engine's placement options, parsed before any image is read or anything written; the head stays CPU fp32. */
  @Test
  void badDeviceOrPrecisionIsAOneLineUserErrorBeforeAnyWork() throws IOException {
    Path csv = csv(tmp, 4, true, false);
    Path out = tmp.resolve("never");
    for (String[] opt : List.of(new String[] {"--precision", "bf16"}, new String[] {"--device", "tpu0"},
        new String[] {"--device", "gpu999"})) {
      CliRun r = CliRun.of("train-head", "--model", bundle.toString(), "--csv", csv.toString(), "--out", out.toString(),
          opt[0], opt[1]);
      assertEquals(2, r.exit(), r.out() + r.err());
      String line = r.err().strip();
      assertFalse(line.contains("\n"), "one line: " + line);
      assertTrue(line.contains(opt[0] + (opt[1].equals("tpu0") ? " 'tpu0' must be cpu, gpu or gpuN" : " " + opt[1])),
          line);
      assertTrue(r.out().isEmpty() && !Files.exists(out), "nothing computed or written: " + r.out());
    }
    String help = CliRun.of("train-head", "--help").out().replaceAll("\\s+", " ");
    assertTrue(help.contains("--device") && help.contains("the head itself always trains and is judged on the CPU in "
        + "fp32"), help);
  }
}
