package io.semspai.eval.report;

import io.semspai.eval.Curve;
import io.semspai.eval.EvalSet;
import io.semspai.eval.EvalSummary;
import io.semspai.eval.Metrics;
import io.semspai.eval.MetricValue;
import io.semspai.eval.ProfileOutcome;
import io.semspai.eval.RobustnessTable;
import io.semspai.eval.SourceSummary;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes {@code --report DIR}: an {@code index.html} that opens from disk in any browser, beside PNG charts drawn
 * with JFreeChart. No script, stylesheet or font is fetched from anywhere: the page is plain HTML with inline CSS.
 *
 * <ul>
 *   <li>{@code roc.png}: ROC curves of every CSV and mode (single-class CSVs are listed as left out);</li>
 *   <li>{@code hist-N.png}: score histograms per class, one per CSV and mode (20 bins over [0,1]);</li>
 *   <li>{@code robustness-N.png}: AUC against strength, one per CSV and swept kind, a line per mode, with each
 *       mode's clean AUC as a dashed line;</li>
 *   <li>the metrics table, the per-generator tables and the robustness table.</li>
 * </ul>
 */
public final class HtmlReport {
  private static final Color REAL = new Color(0x1f77b4);
  private static final Color AI = new Color(0xd62728);
  private static final Color[] SERIES = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd),
    new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)
  };
  private static final int W = 720;
  private static final int H = 480;

  /** The written files. */
  public record Output(Path index, List<Path> charts) {}

  private final String title;
  private final List<EvalSet> sets = new ArrayList<>();
  private final List<EvalSummary> summaries = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private RobustnessTable robustness;

  private HtmlReport(String title) {
    this.title = title;
  }

  public static HtmlReport titled(String title) {
    return new HtmlReport(title);
  }

  /** One CSV in one mode: its scores draw the ROC and histogram, its summary fills the tables. */
  public HtmlReport add(EvalSet set, EvalSummary summary) {
    sets.add(set);
    summaries.add(summary);
    return this;
  }

  public HtmlReport robustness(RobustnessTable table) {
    this.robustness = table;
    return this;
  }

  /** A line shown under the title (the command, the model bundle and its version, the date). */
  public HtmlReport note(String line) {
    notes.add(line);
    return this;
  }

  public Output write(Path dir) {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    try {
      java.nio.file.Files.createDirectories(dir);
      List<Path> charts = new ArrayList<>();
      StringBuilder html = new StringBuilder();
      html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
          .append(esc(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n<h1>")
          .append(esc(title)).append("</h1>\n");
      for (String n : notes) {
        html.append("<p class=\"note\">").append(esc(n)).append("</p>\n");
      }
      metricsTable(html);
      for (EvalSummary s : summaries) {
        if (s.sources() != null) {
          sourcesTable(html, s);
        }
      }
      html.append("<h2>ROC curves</h2>\n");
      Path roc = dir.resolve("roc.png");
      List<String> leftOut = rocChart(roc);
      charts.add(roc);
      html.append(img("roc.png", "ROC curves: true-positive rate against false-positive rate"));
      if (!leftOut.isEmpty()) {
        html.append("<p class=\"note\">Not drawn (one class only): ").append(esc(String.join(", ", leftOut)))
            .append("</p>\n");
      }
      html.append("<h2>Score histograms</h2>\n<div class=\"grid\">\n");
      for (int i = 0; i < sets.size(); i++) {
        String name = "hist-" + (i + 1) + ".png";
        histogram(sets.get(i), dir.resolve(name));
        charts.add(dir.resolve(name));
        html.append(img(name, "Score histogram of " + label(sets.get(i)) + ", real and AI images"));
      }
      html.append("</div>\n");
      if (robustness != null && !robustness.isEmpty()) {
        html.append("<h2>Robustness</h2>\n<div class=\"grid\">\n");
        int k = 1;
        for (String dataset : robustness.datasets()) {
          for (String kind : robustness.kinds()) {
            String name = "robustness-" + k++ + ".png";
            robustnessChart(dataset, kind, dir.resolve(name));
            charts.add(dir.resolve(name));
            html.append(img(name, "AUC of " + dataset + " against " + kind + " strength"));
          }
        }
        html.append("</div>\n<pre>").append(esc(robustness.toText())).append("</pre>\n");
      }
      html.append("</body>\n</html>\n");
      Path index = dir.resolve("index.html");
      java.nio.file.Files.writeString(index, html, StandardCharsets.UTF_8);
      return new Output(index, List.copyOf(charts));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report to " + dir + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- tables

  private void metricsTable(StringBuilder html) {
    List<String> profileNames = new ArrayList<>();
    for (EvalSummary s : summaries) {
      for (ProfileOutcome p : s.profiles()) {
        if (!profileNames.contains(p.profile().name())) {
          profileNames.add(p.profile().name());
        }
      }
    }
    html.append("<h2>Metrics</h2>\n<div class=\"scroll\"><table>\n<tr><th>CSV</th><th>mode</th><th>images</th><th>errors</th>")
        .append("<th>AUC</th><th>AP</th><th>Acc@0.5</th><th>ECE</th>");
    for (String p : profileNames) {
      html.append("<th>Acc@").append(esc(p)).append(" t_high</th><th>UNCERTAIN ").append(esc(p)).append("</th>");
    }
    html.append("</tr>\n");
    List<String> notes = new ArrayList<>();
    for (EvalSummary s : summaries) {
      html.append("<tr><td>").append(esc(s.name())).append("</td><td>").append(esc(s.mode())).append("</td>")
          .append(num(Integer.toString(s.images()))).append(num(errorCell(s))).append(cell(s.auc()))
          .append(cell(s.ap())).append(cell(s.accuracy05())).append(cell(s.ece()));
      for (String p : profileNames) {
        ProfileOutcome o = s.profiles().stream().filter(x -> x.profile().name().equals(p)).findFirst().orElse(null);
        html.append(o == null ? "<td></td>" : cell(o.accuracy()));
        html.append(o == null || !o.uncertainRate().isDefined() ? "<td></td>"
            : num(String.format(Locale.ROOT, "%.1f%%", 100 * o.uncertainRate().value())));
      }
      html.append("</tr>\n");
      for (String n : s.notes()) {
        notes.add(s.name() + " (" + s.mode() + "): " + n);
      }
    }
    html.append("</table></div>\n");
    for (String n : notes) {
      html.append("<p class=\"note\">").append(esc(n)).append("</p>\n");
    }
    html.append("<p class=\"note\">AUC and AP as torchmetrics (ties grouped); Acc@0.5 counts a score above 0.5 as AI,"
        + " as upstream; Acc@t_high counts a score at or above the profile's t_high as AI and UNCERTAIN images as"
        + " real, with the UNCERTAIN share beside it; ECE over 15 equal-width bins.</p>\n");
  }

  private static String errorCell(EvalSummary s) {
    if (s.errors() == 0) {
      return "0";
    }
    List<String> parts = new ArrayList<>();
    s.errorsByReason().forEach((k, v) -> parts.add(k + " " + v));
    return s.errors() + " (" + String.join(", ", parts) + ")";
  }

  private static void sourcesTable(StringBuilder html, EvalSummary s) {
    SourceSummary src = s.sources();
    html.append("<h3>").append(esc(s.name())).append(" (").append(esc(s.mode()))
        .append("): per AI source, averaged over the real sources ")
        .append(esc(String.join(", ", src.realSources()))).append("</h3>\n<table>\n")
        .append("<tr><th>AI source</th><th>AI images</th><th>AUC</th><th>AP</th><th>Acc@0.5</th></tr>\n");
    List<SourceSummary.Row> rows = new ArrayList<>(src.rows());
    rows.add(src.average());
    for (SourceSummary.Row r : rows) {
      html.append("<tr><td>").append(esc(r.aiSource())).append("</td>").append(num(Integer.toString(r.ai())))
          .append(cell(r.auc())).append(cell(r.ap())).append(cell(r.accuracy05())).append("</tr>\n");
    }
    html.append("</table>\n");
  }

  // ---------------------------------------------------------------- charts

  private List<String> rocChart(Path file) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    List<String> leftOut = new ArrayList<>();
    for (int i = 0; i < sets.size(); i++) {
      EvalSet set = sets.get(i);
      MetricValue auc = summaries.get(i).auc();
      if (!auc.isDefined()) {
        leftOut.add(label(set));
        continue;
      }
      Curve roc = Metrics.rocCurve(set.labels(), set.scores());
      XYSeries series = new XYSeries(label(set) + String.format(Locale.ROOT, " (AUC %.3f)", auc.value()), false, true);
      for (int p = 0; p < roc.x().length; p++) {
        series.add(roc.x()[p], roc.y()[p]);
      }
      data.addSeries(series);
    }
    XYSeries chance = new XYSeries("chance", false, true);
    chance.add(0, 0);
    chance.add(1, 1);
    data.addSeries(chance);
    JFreeChart chart = ChartFactory.createXYLineChart(
        "ROC", "false-positive rate (real images called AI)", "true-positive rate (AI images found)", data,
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = style(chart);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    for (int s = 0; s < data.getSeriesCount() - 1; s++) {
      r.setSeriesPaint(s, SERIES[s % SERIES.length]);
      r.setSeriesStroke(s, new BasicStroke(2f));
    }
    int last = data.getSeriesCount() - 1;
    r.setSeriesPaint(last, Color.GRAY);
    r.setSeriesStroke(last, dashed());
    plot.setRenderer(r);
    plot.getDomainAxis().setRange(0, 1);
    plot.getRangeAxis().setRange(0, 1.001);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, W, H);
    return leftOut;
  }

  private static void histogram(EvalSet set, Path file) throws IOException {
    int[] y = set.labels();
    double[] s = set.scores();
    HistogramDataset data = new HistogramDataset();
    int real = 0;
    for (int l : y) {
      real += 1 - l;
    }
    double[] realScores = new double[real];
    double[] aiScores = new double[y.length - real];
    int a = 0;
    int b = 0;
    for (int i = 0; i < y.length; i++) {
      if (y[i] == 0) {
        realScores[a++] = s[i];
      } else {
        aiScores[b++] = s[i];
      }
    }
    data.addSeries("real (" + real + ")", realScores, 20, 0, 1);
    data.addSeries("AI (" + (y.length - real) + ")", aiScores, 20, 0, 1);
    JFreeChart chart = ChartFactory.createHistogram(
        label(set), "score (probability of AI)", "images", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = style(chart);
    XYBarRenderer r = (XYBarRenderer) plot.getRenderer();
    r.setBarPainter(new StandardXYBarPainter());
    r.setShadowVisible(false);
    r.setSeriesPaint(0, new Color(REAL.getRed(), REAL.getGreen(), REAL.getBlue(), 150));
    r.setSeriesPaint(1, new Color(AI.getRed(), AI.getGreen(), AI.getBlue(), 150));
    plot.getDomainAxis().setRange(0, 1);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, W / 2 + 120, H * 3 / 4);
  }

  private void robustnessChart(String dataset, String kind, Path file) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    List<String> modes = robustness.modes();
    for (String mode : modes) {
      XYSeries series = new XYSeries(mode, true, true);
      for (RobustnessTable.Entry e : robustness.curve(dataset, mode, kind)) {
        if (e.summary().auc().isDefined()) {
          series.add(e.strength(), e.summary().auc().value());
        }
      }
      data.addSeries(series);
    }
    JFreeChart chart = ChartFactory.createXYLineChart(
        dataset + ": AUC against " + kind, axisLabel(kind), "AUC", data, PlotOrientation.VERTICAL, true, false,
        false);
    chart.addSubtitle(new TextTitle("dashed: each mode's clean AUC"));
    XYPlot plot = style(chart);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    double low = 1;
    for (int m = 0; m < modes.size(); m++) {
      Color c = SERIES[m % SERIES.length];
      r.setSeriesPaint(m, c);
      r.setSeriesStroke(m, new BasicStroke(2f));
      XYSeries series = data.getSeries(m);
      for (int i = 0; i < series.getItemCount(); i++) {
        low = Math.min(low, series.getY(i).doubleValue());
      }
      RobustnessTable.Entry clean = robustness.clean(dataset, modes.get(m));
      if (clean != null && clean.summary().auc().isDefined()) {
        plot.addRangeMarker(new ValueMarker(clean.summary().auc().value(), c, dashed()));
        low = Math.min(low, clean.summary().auc().value());
      }
    }
    plot.setRenderer(r);
    // Zoom to where the curves are (in steps of 0.1), so a few points of AUC are visible.
    plot.getRangeAxis().setRange(Math.max(0, Math.floor((low - 0.05) * 10) / 10), 1.005);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, W / 2 + 120, H * 3 / 4);
  }

  private static String axisLabel(String kind) {
    return switch (kind) {
      case "jpeg" -> "JPEG quality";
      case "webp" -> "WebP quality";
      case "blur" -> "blur sigma (pixels)";
      case "noise" -> "noise sigma (0-255 scale)";
      case "scale" -> "scale factor";
      case "crop", "rcrop" -> "kept fraction of each side";
      default -> kind + " strength";
    };
  }

  private static XYPlot style(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xdddddd));
    plot.setRangeGridlinePaint(new Color(0xdddddd));
    plot.setOutlinePaint(Color.GRAY);
    return plot;
  }

  private static BasicStroke dashed() {
    return new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f);
  }

  // ---------------------------------------------------------------- html bits

  private static String label(EvalSet set) {
    return set.name() + " · " + set.mode();
  }

  private static String img(String file, String alt) {
    return "<figure><img src=\"" + file + "\" alt=\"" + esc(alt) + "\"></figure>\n";
  }

  private static String cell(MetricValue v) {
    return v.isDefined() ? num(v.format()) : "<td class=\"na\" title=\"" + esc(v.undefinedReason()) + "\">n/a</td>";
  }

  private static String num(String text) {
    return "<td class=\"num\">" + esc(text) + "</td>";
  }

  static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static final String CSS = String.join("\n",
      "body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto; max-width: 1200px;"
          + " padding: 0 1em; color: #222; }",
      "h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; }",
      "table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; } .scroll { overflow-x: auto; }",
      "th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; } th { background: #f3f3f3; }",
      "td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } td.na { color: #999; text-align: center; }",
      ".note { color: #555; font-size: 0.9em; }",
      ".grid { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; }",
      "img { max-width: 100%; border: 1px solid #eee; }",
      "pre { background: #f8f8f8; padding: 1em; overflow-x: auto; }",
      "");
}
