package io.semspai.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.eval.EvalProfile;
import io.semspai.eval.EvalSet;
import io.semspai.eval.EvalSummary;
import io.semspai.eval.RobustnessTable;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
  static final List<EvalProfile> PROFILES =
      List.of(new EvalProfile("balanced", 0.3, 0.7), new EvalProfile("strict", 0.2, 0.9));

  @TempDir Path dir;

  /** A synthetic detector: AI scores centred at 0.5 + separation/2, real at 0.5 - separation/2. */
  static EvalSet synthetic(String name, String mode, double separation, long seed, boolean sources) {
    SplittableRandom r = new SplittableRandom(seed);
    EvalSet set = new EvalSet(name, mode);
    String[] reals = {"coco", "imagenet"};
    String[] gens = {"sd3", "flux", "mjv61"};
    for (int i = 0; i < 300; i++) {
      int y = i % 2;
      double s = Math.max(0, Math.min(1, 0.5 + (y == 1 ? 1 : -1) * separation / 2 + 0.15 * r.nextGaussian()));
      set.addScore(y, s, sources ? (y == 1 ? gens[i % 3] : reals[i % 2 == 0 ? (i / 2) % 2 : 0]) : null);
    }
    set.addError("DECODE_FAILED").addError("NOT_FOUND");
    return set;
  }

  static HtmlReport sample() {
    HtmlReport report = HtmlReport.titled("Sem-SPAI evaluation <demo>")
        .note("semspai eval --model demo.bundle --csv paper.csv --sweep jpeg=95,75,50 --sweep scale=0.5,0.75");
    RobustnessTable robustness = new RobustnessTable();
    for (String mode : List.of("fusion", "spectral")) {
      double base = mode.equals("fusion") ? 0.5 : 0.4;
      EvalSet set = synthetic("paper", mode, base, 1, true);
      EvalSummary summary = EvalSummary.of(set, PROFILES);
      report.add(set, summary);
      robustness.addClean(summary);
      int k = 0;
      for (int q : new int[] {95, 75, 50}) {
        double sep = base * (mode.equals("fusion") ? 1 - 0.1 * k : 1 - 0.3 * k);
        robustness.add("jpeg", q, "jpeg=" + q, EvalSummary.of(synthetic("paper", mode, sep, 10 + k, false), PROFILES));
        k++;
      }
      k = 0;
      for (double f : new double[] {0.5, 0.75}) {
        double sep = base * (mode.equals("fusion") ? 0.8 + 0.1 * k : 0.5 + 0.2 * k);
        robustness.add("scale", f, "scale=" + f, EvalSummary.of(synthetic("paper", mode, sep, 20 + k, false), PROFILES));
        k++;
      }
    }
    EvalSet onlyAi = new EvalSet("fake_only", "fusion").addScore(1, 0.9, null).addScore(1, 0.4, null);
    report.add(onlyAi, EvalSummary.of(onlyAi, PROFILES));
    return report.robustness(robustness);
  }

  @Test
  void writesAnHtmlPageWithItsChartsAndTables() throws Exception {
    HtmlReport.Output out = sample().write(dir);
    assertEquals(dir.resolve("index.html"), out.index());
    String html = Files.readString(out.index());
    // roc + 3 histograms + 2 robustness charts (one per swept kind).
    assertEquals(6, out.charts().size());
    for (Path chart : out.charts()) {
      assertTrue(Files.size(chart) > 2000, chart + " is too small to hold a chart");
      BufferedImage img = ImageIO.read(chart.toFile());
      assertNotNull(img, chart + " is not a readable PNG");
      assertTrue(img.getWidth() >= 400 && img.getHeight() >= 300);
      assertTrue(distinctColours(img) > 5, chart + " looks blank");
      assertTrue(html.contains("src=\"" + chart.getFileName() + "\""), "the page shows " + chart.getFileName());
    }
    // Every image the page refers to exists.
    Matcher m = Pattern.compile("src=\"([^\"]+)\"").matcher(html);
    int refs = 0;
    while (m.find()) {
      assertTrue(Files.exists(dir.resolve(m.group(1))), m.group(1));
      refs++;
    }
    assertEquals(6, refs);
    assertTrue(html.contains("<title>Sem-SPAI evaluation &lt;demo&gt;</title>"));
    assertTrue(html.contains("<th>Acc@balanced t_high</th><th>UNCERTAIN balanced</th>"));
    assertTrue(html.contains("<td>paper</td><td>fusion</td><td class=\"num\">302</td>"
        + "<td class=\"num\">2 (DECODE_FAILED 1, NOT_FOUND 1)</td>"), html);
    assertTrue(html.contains("per AI source, averaged over the real sources coco, imagenet"));
    assertTrue(html.contains("<td>average</td>"));
    assertTrue(html.contains("fake_only (fusion): AUC needs both classes: the set has no real images (class 0)"));
    assertTrue(html.contains("Not drawn (one class only): fake_only · fusion"));
    assertTrue(html.contains("robustness: paper against jpeg"));
    // Nothing is fetched: no remote URL, no script.
    assertFalse(html.contains("http://") || html.contains("https://") || html.contains("<script"), "self-contained");
  }

  private static int distinctColours(BufferedImage img) {
    java.util.Set<Integer> colours = new java.util.HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 3) {
      for (int x = 0; x < img.getWidth(); x += 3) {
        colours.add(img.getRGB(x, y));
      }
    }
    return colours.size();
  }

  /** Writes the sample report where asked, for a look in a browser: -Dsemspai.report.sample=/tmp/report. */
  @Test
  void writesTheSampleWhereAskedForAManualLook() {
    String target = System.getProperty("semspai.report.sample");
    Assumptions.assumeTrue(target != null, "set -Dsemspai.report.sample=DIR to write the sample report");
    HtmlReport.Output out = sample().write(Path.of(target));
    assertTrue(Files.exists(out.index()));
  }
}
