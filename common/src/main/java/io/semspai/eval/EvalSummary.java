package io.semspai.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What {@code eval} reports for one CSV in one mode.
 *
 * @param images rows evaluated, scored or not
 * @param errors images without a score, by reason code in {@code errorsByReason}
 * @param accuracy05 upstream's accuracy: AI when score > 0.5
 * @param ece expected calibration error, 15 equal-width bins (torchmetrics' binary definition)
 * @param profiles one outcome per threshold profile: accuracy at t_high and the UNCERTAIN rate beside it
 * @param sources per-generator table, null when the CSV has no source column
 */
public record EvalSummary(
    String name,
    String mode,
    int images,
    int scored,
    int errors,
    Map<String, Integer> errorsByReason,
    int real,
    int ai,
    MetricValue auc,
    MetricValue ap,
    MetricValue accuracy05,
    MetricValue ece,
    List<ProfileOutcome> profiles,
    SourceSummary sources) {

  public static EvalSummary of(EvalSet set, List<EvalProfile> profiles) {
    int[] y = set.labels();
    double[] s = set.scores();
    int ai = 0;
    for (int l : y) {
      ai += l;
    }
    List<ProfileOutcome> outcomes = new ArrayList<>();
    for (EvalProfile p : profiles) {
      outcomes.add(Metrics.profile(y, s, p));
    }
    return new EvalSummary(
        set.name(), set.mode(), set.imageCount(), set.scoredCount(), set.errorCount(),
        new LinkedHashMap<>(set.errorsByReason()), y.length - ai, ai,
        Metrics.auroc(y, s), Metrics.averagePrecision(y, s), Metrics.accuracy(y, s, 0.5),
        Metrics.expectedCalibrationError(y, s), List.copyOf(outcomes),
        set.hasSources() ? SourceSummary.of(set) : null);
  }

  /** The block {@code eval} prints for this CSV. */
  public String toText() {
    StringBuilder sb = new StringBuilder();
    sb.append("== ").append(name).append(" (").append(mode).append(") ==\n");
    sb.append(String.format(Locale.ROOT, "images %d  scored %d (real %d, AI %d)  errors %d%s%n", images, scored, real,
        ai, errors, errors == 0 ? "" : " " + errorText()));
    sb.append(String.format(Locale.ROOT, "AUC %s  AP %s  Acc@0.5 %s  ECE %s%n", auc.format(), ap.format(),
        accuracy05.format(), ece.format()));
    if (!profiles.isEmpty()) {
      TextTable t = new TextTable(List.of("profile", "t_low", "t_high", "Acc@t_high", "UNCERTAIN", "FPR real",
          "TPR AI"));
      for (ProfileOutcome o : profiles) {
        t.row(List.of(o.profile().name(), fmt3(o.profile().tLow()), fmt3(o.profile().tHigh()), o.accuracy().format(),
            percent(o.uncertainRate()), o.realFalsePositiveRate().format(), o.aiTruePositiveRate().format()));
      }
      sb.append(t.render());
    }
    if (sources != null) {
      sb.append(sources.toText());
    }
    for (String note : notes()) {
      sb.append("note: ").append(note).append('\n');
    }
    return sb.toString();
  }

  /** Each distinct reason a headline metric is undefined, once (e.g. a single-class CSV). */
  public List<String> notes() {
    List<String> notes = new ArrayList<>();
    for (MetricValue v : List.of(auc, ap, accuracy05, ece)) {
      if (!v.isDefined() && !notes.contains(v.undefinedReason())) {
        notes.add(v.undefinedReason());
      }
    }
    return notes;
  }

  private String errorText() {
    return errorsByReason.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
        .collect(Collectors.joining(", ", "(", ")"));
  }

  public ObjectNode toJson() {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name);
    o.put("mode", mode);
    o.put("images", images);
    o.put("scored", scored);
    o.put("real", real);
    o.put("ai", ai);
    o.put("errors", errors);
    ObjectNode reasons = o.putObject("errors_by_reason");
    errorsByReason.forEach(reasons::put);
    Json.put(o, "auc", auc);
    Json.put(o, "ap", ap);
    Json.put(o, "accuracy_0_5", accuracy05);
    Json.put(o, "ece", ece);
    ArrayNode ps = o.putArray("profiles");
    for (ProfileOutcome p : profiles) {
      ObjectNode po = ps.addObject();
      po.put("name", p.profile().name());
      po.put("t_low", p.profile().tLow());
      po.put("t_high", p.profile().tHigh());
      Json.put(po, "accuracy_t_high", p.accuracy());
      Json.put(po, "uncertain_rate", p.uncertainRate());
      Json.put(po, "decided_accuracy", p.decidedAccuracy());
      Json.put(po, "fpr_real", p.realFalsePositiveRate());
      Json.put(po, "tpr_ai", p.aiTruePositiveRate());
      po.put("uncertain", p.uncertain());
    }
    if (sources != null) {
      o.set("sources", sources.toJson());
    }
    return o;
  }

  /**
   * One line per CSV and mode, like upstream's {@code Test | <csv> | ACC/AP/AUC} log, plus each profile's accuracy
   * and UNCERTAIN rate.
   */
  public static String table(List<EvalSummary> summaries) {
    List<String> header = new ArrayList<>(List.of("csv", "mode", "images", "errors", "AUC", "AP", "Acc@0.5"));
    List<String> profileNames = new ArrayList<>();
    for (EvalSummary s : summaries) {
      for (ProfileOutcome p : s.profiles()) {
        if (!profileNames.contains(p.profile().name())) {
          profileNames.add(p.profile().name());
        }
      }
    }
    for (String p : profileNames) {
      header.add("Acc@" + p);
      header.add("UNC@" + p);
    }
    TextTable t = new TextTable(header);
    for (EvalSummary s : summaries) {
      List<String> row = new ArrayList<>(List.of(s.name(), s.mode(), Integer.toString(s.images()),
          Integer.toString(s.errors()), s.auc().format(), s.ap().format(), s.accuracy05().format()));
      for (String p : profileNames) {
        ProfileOutcome o = s.profiles().stream().filter(x -> x.profile().name().equals(p)).findFirst().orElse(null);
        row.add(o == null ? "" : o.accuracy().format());
        row.add(o == null ? "" : percent(o.uncertainRate()));
      }
      t.row(row);
    }
    return t.render();
  }

  public static ArrayNode toJson(List<EvalSummary> summaries) {
    ArrayNode arr = Json.MAPPER.createArrayNode();
    summaries.forEach(s -> arr.add(s.toJson()));
    return arr;
  }

  private static String fmt3(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }

  private static String percent(MetricValue v) {
    return v.isDefined() ? String.format(Locale.ROOT, "%.1f%%", 100 * v.value()) : "n/a";
  }
}
