package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.semspai.demo.DemoImages;
import io.semspai.engine.ModelOutput;
import io.semspai.eval.Dataset;
import io.semspai.eval.DatasetCsv;
import io.semspai.eval.DatasetRow;
import io.semspai.eval.Json;
import io.semspai.eval.Metrics;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import io.semspai.perturb.PerturbationPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code infer} and {@code eval} end to end through {@link Main#newCommandLine()}, on a tiny random-init fusion bundle
 * and a dozen small generated images, a truncated file, a missing file, a refused URL and a bad CSV row.
 */
class OfflineCommandsTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  static Path bundle;
  static Path data;
  static Path csv;
  /** The data rows of {@link #csv}, as written. */
  static final List<String> ROWS = new ArrayList<>();

  @BeforeAll
  static void setUp() throws IOException {
    bundle = SemSpaiBundles.writeRandom(shared.resolve("bundle"), SemSpaiBundles.Preset.named("tiny"), 11,
        "semspai-tiny-test", "0.1.0", "native");
    data = shared.resolve("data");
    Files.createDirectories(data.resolve("real"));
    Files.createDirectories(data.resolve("ai"));
    ROWS.clear();
    for (int i = 0; i < 6; i++) {
      int w = 150 + 23 * i;
      int h = 130 + 17 * i;
      String ext = i % 2 == 0 ? "png" : "jpg";
      write(DemoImages.generate(DemoImages.Kind.CAMERA, w, h, i), data.resolve("real/r" + i + "." + ext));
      write(DemoImages.generate(DemoImages.Kind.UPSAMPLED, h, w, 100 + i), data.resolve("ai/f" + i + "." + ext));
      ROWS.add("real/r" + i + "." + ext + ",0,test," + (i < 3 ? "camA" : "camB"));
      ROWS.add("ai/f" + i + "." + ext + ",1,test," + (i < 3 ? "genX" : "genY"));
    }
    // A JPEG cut in half: the intake refuses it rather than scoring a half-grey image.
    byte[] jpeg = Files.readAllBytes(data.resolve("ai/f1.jpg"));
    Files.write(data.resolve("ai/broken.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
    ROWS.add("ai/broken.jpg,1,test,genX");
    ROWS.add("real/missing.png,0,test,camA");
    ROWS.add("http://127.0.0.1:9/x.png,1,test,genY"); // loopback: refused by the default policy, no packet sent
    ROWS.add("real/r0.png,2,test,camA");               // class 2: a bad row, kept and counted
    ROWS.add("real/r1.jpg,0,train,camA");              // another split: scored by infer, not evaluated
    csv = data.resolve("set.csv");
    Files.writeString(csv, "image,class,split,source\n" + String.join("\n", ROWS) + "\n");
  }

  static void write(RgbImage im, Path file) throws IOException {
    BufferedImage bi = new BufferedImage(im.width(), im.height(), BufferedImage.TYPE_INT_RGB);
    byte[] rgb = im.rgb();
    for (int y = 0; y < im.height(); y++) {
      for (int x = 0; x < im.width(); x++) {
        int i = 3 * (y * im.width() + x);
        bi.setRGB(x, y, (rgb[i] & 0xFF) << 16 | (rgb[i + 1] & 0xFF) << 8 | (rgb[i + 2] & 0xFF));
      }
    }
    String fmt = file.toString().endsWith(".png") ? "png" : "jpg";
    assertTrue(ImageIO.write(bi, fmt, file.toFile()));
  }

  static Map<String, DatasetRow> byImage(Dataset ds) {
    Map<String, DatasetRow> m = new HashMap<>();
    for (DatasetRow r : ds.rows()) {
      m.put(r.image() + "#" + r.line(), r);
    }
    return m;
  }

  static String cell(Dataset ds, DatasetRow r, String column) {
    return r.values().get(ds.header().indexOf(column));
  }

  @Test
  void inferWritesEveryRowWithScoresOrAReasonAndExitsThree() throws IOException {
    Path out = tmp.resolve("out");
    CliRun r = CliRun.of("infer", "--model", bundle.toString(), "--input", csv.toString(), "--output", out.toString());
    assertEquals(OfflineScorer.EXIT_ROWS_FAILED, r.exit(), r.err());
    assertTrue(r.out().contains("17 images, 13 scored, 4 failed"), r.out());

    Dataset scored = DatasetCsv.read(out.resolve("set.csv"));
    assertEquals(List.of("image", "class", "split", "source", "semspai", "semspai_logit", "semspai_spectral",
        "semspai_error"), scored.header());
    assertEquals(ROWS.size(), scored.rows().size());
    Map<String, String> errors = new HashMap<>();
    int withScore = 0;
    for (int i = 0; i < ROWS.size(); i++) {
      DatasetRow row = scored.rows().get(i);
      // Upstream's columns come back exactly as they went in, in order.
      assertEquals(ROWS.get(i), String.join(",", row.values().subList(0, 4)));
      String error = cell(scored, row, "semspai_error");
      if (error.isEmpty()) {
        withScore++;
        double s = Double.parseDouble(cell(scored, row, "semspai"));
        double logit = Double.parseDouble(cell(scored, row, "semspai_logit"));
        assertTrue(s > 0 && s < 1, row.toString());
        assertEquals(1 / (1 + Math.exp(-logit)), s, 1e-6);
        assertFalse(cell(scored, row, "semspai_spectral").isEmpty());
      } else {
        errors.put(row.image() + (row.line() == 17 ? "#bad" : ""), error);
        assertEquals("", cell(scored, row, "semspai"));
        assertEquals("", cell(scored, row, "semspai_spectral"));
      }
    }
    assertEquals(13, withScore);
    assertEquals(Map.of("ai/broken.jpg", "TRUNCATED", "real/missing.png", "FILE_NOT_FOUND",
        "http://127.0.0.1:9/x.png", "ADDRESS_NOT_ALLOWED", "real/r0.png#bad", "BAD_ROW"), errors);
    // The end-of-run report says which row failed, why, and where the reason is.
    assertTrue(r.err().contains("set: 4 of 17 rows failed (ADDRESS_NOT_ALLOWED 1, BAD_ROW 1, FILE_NOT_FOUND 1, "
        + "TRUNCATED 1); each has its reason in column semspai_error"), r.err());
    assertTrue(r.err().contains("line 17  real/r0.png  BAD_ROW: line 17: bad 'class' value '2'"), r.err());
    assertTrue(r.err().contains("line 16  http://127.0.0.1:9/x.png  ADDRESS_NOT_ALLOWED"), r.err());

    // Batched through the engine, each score is the model's own for that image alone (within 1e-4).
    try (SemSpaiModel m = SemSpaiModel.load(bundle)) {
      for (String name : List.of("real/r2.png", "ai/f3.jpg")) {
        ModelOutput o = m.score(ImageDecoder.decode(Files.readAllBytes(data.resolve(name))));
        DatasetRow row = scored.rows().stream().filter(x -> x.image().equals(name)).findFirst().orElseThrow();
        assertEquals(o.fusedScore(), Double.parseDouble(cell(scored, row, "semspai")), 1e-4);
        assertEquals(o.spectralScore(), Double.parseDouble(cell(scored, row, "semspai_spectral")), 1e-4);
      }
    }

    // Scoring the written CSV again overwrites the columns in place instead of adding new ones.
    Path again = tmp.resolve("again");
    r = CliRun.of("infer", "--model", bundle.toString(), "--input", out.resolve("set.csv").toString(), "--csv-root",
        data.toString(), "--output", again.toString(), "--mode", "spectral");
    assertEquals(OfflineScorer.EXIT_ROWS_FAILED, r.exit(), r.err());
    Dataset rescored = DatasetCsv.read(again.resolve("set.csv"));
    assertEquals(scored.header(), rescored.header());
    DatasetRow first = rescored.rows().get(0);
    assertEquals(cell(rescored, first, "semspai"), cell(rescored, first, "semspai_spectral"));
  }

  @Test
  void evalReportsTheMetricsOfTheScoresInferWrites() throws IOException {
    Path out = tmp.resolve("infer");
    CliRun r = CliRun.of("infer", "--model", bundle.toString(), "--input", csv.toString(), "--output", out.toString(),
        "--tag", "s");
    assertEquals(OfflineScorer.EXIT_ROWS_FAILED, r.exit(), r.err());
    Path json = tmp.resolve("eval/out.json");
    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", csv.toString(), "--json", json.toString());
    assertEquals(OfflineScorer.EXIT_ROWS_FAILED, r.exit(), r.err());
    assertTrue(r.out().contains("== set (fusion) =="), r.out());
    assertTrue(r.out().contains("== set (spectral) =="), r.out());
    assertTrue(r.out().contains("images 16  scored 12 (real 6, AI 6)  errors 4 (ADDRESS_NOT_ALLOWED 1, BAD_ROW 1, "
        + "FILE_NOT_FOUND 1, TRUNCATED 1)"), r.out());
    assertTrue(r.out().contains("note: fusion thresholds are uncalibrated placeholders"), r.out());

    // The evaluated rows of the infer CSV: split test, scored.
    Dataset scored = DatasetCsv.read(out.resolve("set.csv"));
    List<Integer> y = new ArrayList<>();
    List<Double> fused = new ArrayList<>();
    List<Double> spectral = new ArrayList<>();
    for (DatasetRow row : scored.rows()) {
      if (row.isValid() && "test".equals(row.split()) && cell(scored, row, "s_error").isEmpty()) {
        y.add(row.label());
        fused.add(Double.parseDouble(cell(scored, row, "s")));
        spectral.add(Double.parseDouble(cell(scored, row, "s_spectral")));
      }
    }
    int[] labels = y.stream().mapToInt(Integer::intValue).toArray();
    double[] f = fused.stream().mapToDouble(Double::doubleValue).toArray();
    double[] s = spectral.stream().mapToDouble(Double::doubleValue).toArray();

    JsonNode root = Json.MAPPER.readTree(json.toFile());
    assertEquals("semspai-tiny-test", root.at("/model/name").asText());
    assertEquals("fusion", root.at("/model/mode").asText());
    assertEquals("test", root.get("split").asText());
    assertEquals("none", root.get("perturb").asText());
    assertFalse(root.at("/thresholds/fusion/calibrated").asBoolean());
    JsonNode results = root.get("results");
    assertEquals(2, results.size());
    for (JsonNode res : results) {
      double[] scores = res.get("mode").asText().equals("fusion") ? f : s;
      assertEquals("set", res.get("name").asText());
      assertEquals(16, res.get("images").asInt());
      assertEquals(12, res.get("scored").asInt());
      assertEquals(4, res.get("errors").asInt());
      assertEquals(1, res.at("/errors_by_reason/TRUNCATED").asInt());
      assertEquals(1, res.at("/errors_by_reason/FILE_NOT_FOUND").asInt());
      assertEquals(1, res.at("/errors_by_reason/ADDRESS_NOT_ALLOWED").asInt());
      assertEquals(1, res.at("/errors_by_reason/BAD_ROW").asInt());
      // Engine batches differ between the two runs by float rounding only; the ranking, and so AUC/AP, does not.
      assertEquals(Metrics.auroc(labels, scores).value(), res.get("auc").asDouble(), 1e-12, res.toString());
      assertEquals(Metrics.averagePrecision(labels, scores).value(), res.get("ap").asDouble(), 1e-12);
      assertEquals(Metrics.accuracy(labels, scores, 0.5).value(), res.get("accuracy_0_5").asDouble(), 1e-12);
      JsonNode profiles = res.get("profiles");
      assertEquals(List.of("balanced", "strict"), List.of(profiles.get(0).get("name").asText(),
          profiles.get(1).get("name").asText()));
      for (JsonNode p : profiles) {
        assertEquals(0.5, p.get("t_high").asDouble());
        assertTrue(p.has("accuracy_t_high") && p.has("uncertain_rate"), p.toString());
        assertEquals(0.0, p.get("uncertain_rate").asDouble()); // t_low = t_high: no UNCERTAIN band
      }
      // Per source: the SPAI paper's table, each AI source against the real ones.
      JsonNode sources = res.get("sources");
      assertTrue(sources.toString().contains("genX") && sources.toString().contains("camB"), sources.toString());
    }
    assertEquals(4, root.get("failures").size());
    assertEquals("TRUNCATED", root.at("/failures/0/reason").asText());
    assertTrue(root.at("/failures/0/message").asText().contains("broken.jpg"), root.toString());
  }

  @Test
  void sweepWritesTheRobustnessTableDerivativesAndReport() throws IOException {
    Path clean = tmp.resolve("clean.csv");
    Files.writeString(clean, "image,class,split,source\n"
        + String.join("\n", ROWS.stream().filter(x -> !x.contains("broken") && !x.contains("missing")
            && !x.contains("http") && !x.contains(",2,") && !x.contains("train")).toList()) + "\n");
    Path json = tmp.resolve("r.json");
    Path deriv = tmp.resolve("deriv");
    Path report = tmp.resolve("report");
    CliRun r = CliRun.of("eval", "--model", bundle.toString(), "--csv", clean.toString(), "--csv-root", data.toString(),
        "--sweep", "jpeg=90,50", "--sweep", "scale=0.5", "--write-derivatives", deriv.toString(), "--report",
        report.toString(), "--json", json.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("== robustness =="), r.out());

    JsonNode root = Json.MAPPER.readTree(json.toFile());
    JsonNode rob = root.get("robustness");
    // clean + 3 strengths, each in both modes.
    assertEquals(8, rob.size(), rob.toString());
    Map<String, Integer> perKind = new HashMap<>();
    for (JsonNode e : rob) {
      perKind.merge(e.get("kind").asText() + "/" + e.get("mode").asText(), 1, Integer::sum);
      assertEquals(12, e.get("images").asInt());
      assertEquals(0, e.get("errors").asInt());
    }
    assertEquals(Map.of("clean/fusion", 1, "clean/spectral", 1, "jpeg/fusion", 2, "jpeg/spectral", 2,
        "scale/fusion", 1, "scale/spectral", 1), perKind);
    List<String> strengths = new ArrayList<>();
    rob.forEach(e -> strengths.add(e.get("label").asText()));
    assertTrue(strengths.containsAll(List.of("jpeg=90", "jpeg=50", "scale=0.5")), strengths.toString());

    // Derivatives: one folder per perturbation, a CSV in upstream's layout pointing at the saved images.
    for (String point : List.of("jpeg_90", "jpeg_50", "scale_0.5")) {
      Path dcsv = deriv.resolve(point).resolve("clean").resolve("clean.csv");
      assertTrue(Files.isRegularFile(dcsv), dcsv.toString());
      Dataset d = DatasetCsv.read(dcsv);
      assertEquals(List.of("image", "class", "split", "source", "perturbation"), d.header());
      assertEquals(12, d.rows().size());
      for (DatasetRow row : d.rows()) {
        assertTrue(Files.size(((io.semspai.eval.ImageRef.LocalFile) row.ref()).path()) > 0);
        assertEquals(point.startsWith("jpeg") ? ".jpg" : ".png", row.image().substring(row.image().length() - 4));
      }
    }
    RgbImage half = ImageDecoder.decode(Files.readAllBytes(deriv.resolve("scale_0.5/clean/real/r0.png")));
    assertEquals(75, half.width());
    assertEquals(65, half.height());
    // The derivative CSV evaluates as it is, and jpeg=50 evaluated from files gives what the sweep gave.
    Path j2 = tmp.resolve("d.json");
    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", deriv.resolve("jpeg_50/clean/clean.csv").toString(),
        "--mode", "spectral", "--json", j2.toString());
    assertEquals(0, r.exit(), r.err());
    double fromFiles = Json.MAPPER.readTree(j2.toFile()).at("/results/0/auc").asDouble();
    double swept = Double.NaN;
    for (JsonNode e : rob) {
      if (e.get("label").asText().equals("jpeg=50") && e.get("mode").asText().equals("spectral")) {
        swept = e.get("auc").asDouble();
      }
    }
    assertEquals(swept, fromFiles, 1e-12);

    Path index = report.resolve("index.html");
    assertTrue(Files.size(index) > 500);
    String html = Files.readString(index);
    assertFalse(html.contains("<script"));
    for (String png : List.of("roc.png", "hist-1.png", "hist-2.png", "robustness-1.png", "robustness-2.png")) {
      assertTrue(Files.size(report.resolve(png)) > 1000, png);
      assertTrue(html.contains(png), png);
      assertTrue(ImageIO.read(report.resolve(png).toFile()).getWidth() > 100, png);
    }
  }

  @Test
  void singleClassCsvSaysWhyAucIsUndefined() throws IOException {
    Path fakes = tmp.resolve("fakes.csv");
    Files.writeString(fakes, "image,class,split\nai/f0.png,1,test\nai/f1.jpg,1,test\nai/f2.png,1,test\n");
    Path json = tmp.resolve("f.json");
    CliRun r = CliRun.of("eval", "--model", bundle.toString(), "--mode", "spectral", "--csv", fakes.toString(), "--csv-root",
        data.toString(), "--json", json.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("AUC n/a  AP n/a"), r.out());
    assertTrue(r.out().contains("note: AUC needs both classes: the set has no real images (class 0)"), r.out());
    assertFalse(r.out().contains("NaN"), r.out());
    JsonNode res = Json.MAPPER.readTree(json.toFile()).at("/results/0");
    assertTrue(res.get("auc").isNull());
    assertTrue(res.get("auc_undefined").asText().contains("no real images"));
    assertEquals(1, Json.MAPPER.readTree(json.toFile()).get("results").size()); // spectral mode only
  }

  @Test
  void folderInputWithAttentionOverlaysAndPerturbation() throws IOException {
    Path out = tmp.resolve("o");
    CliRun r = CliRun.of("infer", "--model", bundle.toString(), "--input", data.resolve("real").toString(), "--output",
        out.toString(), "--attention", "--tag", "t");
    assertEquals(0, r.exit(), r.err());
    Dataset listed = DatasetCsv.read(out.resolve("real.csv"));
    assertEquals(List.of("image", "split", "t", "t_logit", "t_spectral"), listed.header());
    assertEquals(List.of("r0.png", "r1.jpg", "r2.png", "r3.jpg", "r4.png", "r5.jpg"),
        listed.rows().stream().map(DatasetRow::image).toList());
    try (Stream<Path> s = Files.list(out.resolve("attention"))) {
      assertEquals(6, s.count());
    }
    BufferedImage overlay = ImageIO.read(out.resolve("attention/r3.png").toFile());
    BufferedImage original = ImageIO.read(data.resolve("real/r3.jpg").toFile());
    assertEquals(original.getWidth(), overlay.getWidth());
    assertEquals(original.getHeight(), overlay.getHeight());
    assertNotEquals(original.getRGB(0, 0), overlay.getRGB(0, 0)); // a box edge is drawn over the corner

    // A perturbed run scores other pixels, so other scores.
    Path p = tmp.resolve("p");
    r = CliRun.of("infer", "--model", bundle.toString(), "--input", data.resolve("real").toString(), "--output",
        p.toString(), "--tag", "t", "--perturb", "scale=0.5,jpeg=40");
    assertEquals(0, r.exit(), r.err());
    Dataset perturbed = DatasetCsv.read(p.resolve("real.csv"));
    for (int i = 0; i < 6; i++) {
      assertNotEquals(cell(listed, listed.rows().get(i), "t"), cell(perturbed, perturbed.rows().get(i), "t"));
    }
  }

  @Test
  void derivativesAreNeverAnsweredFromTheCleanImagesCacheEntry() throws IOException {
    Dataset ds = DatasetCsv.listFolder(data.resolve("ai"), "test", 1);
    try (OfflineScorer scorer = OfflineScorer.open(bundle, SemSpaiModel.Mode.SPECTRAL, List.of(ds.root()), 0,
        io.semspai.nn.Placement.CPU)) {
      OfflineScorer.Listener none = new OfflineScorer.Listener() {};
      List<OfflineScorer.Outcome> a = scorer.score("clean", ds.rows(), PerturbationPipeline.NONE, 0, none);
      List<OfflineScorer.Outcome> b = scorer.score("blur", ds.rows(), PerturbationPipeline.parse("blur=2"), 0, none);
      List<OfflineScorer.Outcome> c = scorer.score("clean", ds.rows(), PerturbationPipeline.NONE, 0, none);
      for (int i = 0; i < ds.rows().size(); i++) {
        if (a.get(i).failed()) {
          continue;
        }
        assertNotEquals(a.get(i).score(), b.get(i).score(), ds.rows().get(i).image());
        assertEquals(a.get(i).score(), c.get(i).score());
      }
    }
  }

  @Test
  void badInputFailsWithExitTwoAndWritesNothing() throws IOException {
    Path out = tmp.resolve("nothing");
    CliRun r = CliRun.of("eval", "--model", tmp.resolve("no-bundle").toString(), "--csv", csv.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("error: "), r.err());

    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", tmp.resolve("absent.csv").toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("error: CSV " + tmp.resolve("absent.csv") + " does not exist"), r.err());

    Path noImage = tmp.resolve("noimage.csv");
    Files.writeString(noImage, "path,class\na.png,1\n");
    r = CliRun.of("infer", "--model", bundle.toString(), "--input", noImage.toString(), "--output", out.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("no 'image' column"), r.err());

    Path unlabelled = tmp.resolve("unlabelled.csv");
    Files.writeString(unlabelled, "image\nreal/r0.png\n");
    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", unlabelled.toString(), "--csv-root", data.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("no 'class' column; evaluation needs labels"), r.err());

    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", csv.toString(), "--split", "val");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("no rows of split 'val' (it has: test, train); choose one with --split"), r.err());

    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", csv.toString(), "--perturb", "jpg=50");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("unknown perturbation 'jpg'"), r.err());

    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", csv.toString(), "--perturb", "jpeg=50", "--sweep",
        "jpeg=90");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("jpeg is both in --perturb"), r.err());

    r = CliRun.of("eval", "--model", bundle.toString(), "--csv", csv.toString(), "--write-derivatives", out.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("--write-derivatives needs --perturb or --sweep"), r.err());

    r = CliRun.of("infer", "--model", bundle.toString(), "--input", csv.toString(), "--output", out.toString(), "--tag",
        "class");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("would overwrite the CSV's own 'class' column"), r.err());
    assertFalse(Files.exists(out));
  }
}
