package io.semspai.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Metric against perturbation strength, per CSV, perturbation kind and mode: what {@code --sweep} prints and
 * writes to the JSON. The clean run (no sweep perturbation) is the first row of every kind's block.
 */
public final class RobustnessTable {
  /** Kind of the clean baseline rows. */
  public static final String CLEAN = "clean";

  /**
   * @param kind perturbation key ({@code jpeg}, {@code scale}, ...) or {@value #CLEAN}
   * @param strength the swept value (NaN for the clean run)
   * @param label as typed, e.g. {@code jpeg=75}
   */
  public record Entry(String dataset, String mode, String kind, double strength, String label, EvalSummary summary) {}

  private final List<Entry> entries = new ArrayList<>();

  /** The unperturbed result a kind's curve starts from. */
  public RobustnessTable addClean(EvalSummary summary) {
    entries.add(new Entry(summary.name(), summary.mode(), CLEAN, Double.NaN, CLEAN, summary));
    return this;
  }

  /** One swept point; {@code kind} and {@code strength} come from the sweep point, e.g. ("jpeg", 75, "jpeg=75"). */
  public RobustnessTable add(String kind, double strength, String label, EvalSummary summary) {
    entries.add(new Entry(summary.name(), summary.mode(), Objects.requireNonNull(kind), strength, label, summary));
    return this;
  }

  public List<Entry> entries() {
    return List.copyOf(entries);
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  public List<String> datasets() {
    Set<String> s = new LinkedHashSet<>();
    entries.forEach(e -> s.add(e.dataset()));
    return List.copyOf(s);
  }

  public List<String> modes() {
    Set<String> s = new LinkedHashSet<>();
    entries.forEach(e -> s.add(e.mode()));
    return List.copyOf(s);
  }

  /** Swept kinds in the order first added (the clean baseline excluded). */
  public List<String> kinds() {
    Set<String> s = new LinkedHashSet<>();
    entries.stream().filter(e -> !e.kind().equals(CLEAN)).forEach(e -> s.add(e.kind()));
    return List.copyOf(s);
  }

  /** Points of one curve in the order added: strength against the summary. */
  public List<Entry> curve(String dataset, String mode, String kind) {
    return entries.stream()
        .filter(e -> e.dataset().equals(dataset) && e.mode().equals(mode) && e.kind().equals(kind))
        .toList();
  }

  public Entry clean(String dataset, String mode) {
    return entries.stream()
        .filter(e -> e.dataset().equals(dataset) && e.mode().equals(mode) && e.kind().equals(CLEAN))
        .findFirst().orElse(null);
  }

  /** For each CSV and kind, a block: rows are strengths (clean first), columns AUC/AP/Acc@0.5 per mode. */
  public String toText() {
    StringBuilder sb = new StringBuilder();
    List<String> modes = modes();
    for (String dataset : datasets()) {
      for (String kind : kinds()) {
        List<String> header = new ArrayList<>(List.of(kind));
        for (String m : modes) {
          header.add(m + " AUC");
          header.add(m + " AP");
          header.add(m + " Acc@0.5");
          header.add(m + " errors");
        }
        TextTable t = new TextTable(header);
        List<String> labels = new ArrayList<>();
        labels.add(CLEAN);
        for (String m : modes) {
          for (Entry e : curve(dataset, m, kind)) {
            if (!labels.contains(e.label())) {
              labels.add(e.label());
            }
          }
        }
        for (String label : labels) {
          List<String> row = new ArrayList<>();
          row.add(label.equals(CLEAN) ? CLEAN : label.substring(label.indexOf('=') + 1));
          boolean any = false;
          for (String m : modes) {
            Entry e = label.equals(CLEAN) ? clean(dataset, m)
                : curve(dataset, m, kind).stream().filter(x -> x.label().equals(label)).findFirst().orElse(null);
            any |= e != null;
            row.add(e == null ? "" : e.summary().auc().format());
            row.add(e == null ? "" : e.summary().ap().format());
            row.add(e == null ? "" : e.summary().accuracy05().format());
            row.add(e == null ? "" : Integer.toString(e.summary().errors()));
          }
          if (any) {
            t.row(row);
          }
        }
        sb.append("robustness: ").append(dataset).append(" against ").append(kind).append('\n').append(t.render());
      }
    }
    return sb.toString();
  }

  public ArrayNode toJson() {
    ArrayNode arr = Json.MAPPER.createArrayNode();
    for (Entry e : entries) {
      ObjectNode o = arr.addObject();
      o.put("dataset", e.dataset());
      o.put("mode", e.mode());
      o.put("kind", e.kind());
      if (Double.isNaN(e.strength())) {
        o.putNull("strength");
      } else {
        o.put("strength", e.strength());
      }
      o.put("label", e.label());
      o.put("images", e.summary().images());
      o.put("errors", e.summary().errors());
      Json.put(o, "auc", e.summary().auc());
      Json.put(o, "ap", e.summary().ap());
      Json.put(o, "accuracy_0_5", e.summary().accuracy05());
      Json.put(o, "ece", e.summary().ece());
    }
    return arr;
  }
}
