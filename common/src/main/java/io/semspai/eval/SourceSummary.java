package io.semspai.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Per-generator results as the SPAI paper reports them: for each AI source s and each real source r, the metrics on
 * the images of s together with those of r, then averaged over r (the paper's five real sources; author's note in
 * mever-team/spai issue #8). The last row averages the AI sources. Images without a source count as
 * {@value #UNSPECIFIED}.
 */
public record SourceSummary(List<String> realSources, List<Row> rows, Row average) {
  public static final String UNSPECIFIED = "(unspecified)";

  /** One real source paired with one AI source. */
  public record Pair(String realSource, int ai, int real, MetricValue auc, MetricValue ap, MetricValue accuracy05) {}

  /** One AI source averaged over the real sources. */
  public record Row(String aiSource, int ai, MetricValue auc, MetricValue ap, MetricValue accuracy05, List<Pair> pairs) {}

  public static SourceSummary of(EvalSet set) {
    int[] labels = set.labels();
    double[] scores = set.scores();
    List<String> sources = new ArrayList<>();
    for (String s : set.sources()) {
      sources.add(s == null ? UNSPECIFIED : s);
    }
    TreeSet<String> ai = new TreeSet<>();
    TreeSet<String> real = new TreeSet<>();
    for (int i = 0; i < labels.length; i++) {
      (labels[i] == 1 ? ai : real).add(sources.get(i));
    }
    List<Row> rows = new ArrayList<>();
    for (String s : ai) {
      List<Pair> pairs = new ArrayList<>();
      int nAi = 0;
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] == 1 && sources.get(i).equals(s)) {
          nAi++;
        }
      }
      for (String r : real) {
        List<Integer> idx = new ArrayList<>();
        int nReal = 0;
        for (int i = 0; i < labels.length; i++) {
          String src = sources.get(i);
          if ((labels[i] == 1 && src.equals(s)) || (labels[i] == 0 && src.equals(r))) {
            idx.add(i);
            nReal += 1 - labels[i];
          }
        }
        int[] y = idx.stream().mapToInt(i -> labels[i]).toArray();
        double[] sc = idx.stream().mapToDouble(i -> scores[i]).toArray();
        pairs.add(new Pair(r, nAi, nReal, Metrics.auroc(y, sc), Metrics.averagePrecision(y, sc),
            Metrics.accuracy(y, sc, 0.5)));
      }
      String none = "no real images to pair " + s + " with";
      rows.add(new Row(s, nAi,
          mean(pairs.stream().map(Pair::auc).toList(), none),
          mean(pairs.stream().map(Pair::ap).toList(), none),
          mean(pairs.stream().map(Pair::accuracy05).toList(), none),
          List.copyOf(pairs)));
    }
    String noAi = "no AI images with a source";
    Row average = new Row("average", rows.stream().mapToInt(Row::ai).sum(),
        mean(rows.stream().map(Row::auc).toList(), noAi),
        mean(rows.stream().map(Row::ap).toList(), noAi),
        mean(rows.stream().map(Row::accuracy05).toList(), noAi),
        List.of());
    return new SourceSummary(List.copyOf(real), List.copyOf(rows), average);
  }

  /** Mean of the defined values; undefined if none is. */
  static MetricValue mean(List<MetricValue> values, String reasonIfNone) {
    double sum = 0;
    int n = 0;
    for (MetricValue v : values) {
      if (v.isDefined()) {
        sum += v.value();
        n++;
      }
    }
    return n == 0 ? MetricValue.undefined(reasonIfNone) : MetricValue.of(sum / n);
  }

  public String toText() {
    TextTable t = new TextTable(List.of("AI source", "AI images", "real sources", "AUC", "AP", "Acc@0.5"));
    for (Row r : rows) {
      t.row(List.of(r.aiSource(), Integer.toString(r.ai()), Integer.toString(realSources.size()), r.auc().format(),
          r.ap().format(), r.accuracy05().format()));
    }
    t.row(List.of("average", Integer.toString(average.ai()), "", average.auc().format(), average.ap().format(),
        average.accuracy05().format()));
    return "per AI source, averaged over real sources " + realSources + ":\n" + t.render();
  }

  public ObjectNode toJson() {
    ObjectNode node = Json.MAPPER.createObjectNode();
    ArrayNode reals = node.putArray("real_sources");
    realSources.forEach(reals::add);
    ArrayNode arr = node.putArray("ai_sources");
    for (Row r : rows) {
      ObjectNode o = row(r);
      ArrayNode pairs = o.putArray("pairs");
      for (Pair p : r.pairs()) {
        ObjectNode po = pairs.addObject();
        po.put("real_source", p.realSource());
        po.put("ai_images", p.ai());
        po.put("real_images", p.real());
        Json.put(po, "auc", p.auc());
        Json.put(po, "ap", p.ap());
        Json.put(po, "accuracy_0_5", p.accuracy05());
      }
      arr.add(o);
    }
    node.set("average", row(average));
    return node;
  }

  private static ObjectNode row(Row r) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("ai_source", r.aiSource());
    o.put("ai_images", r.ai());
    Json.put(o, "auc", r.auc());
    Json.put(o, "ap", r.ap());
    Json.put(o, "accuracy_0_5", r.accuracy05());
    return o;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SourceSummary s && rows.equals(s.rows) && realSources.equals(s.realSources)
        && Objects.equals(average, s.average);
  }

  @Override
  public int hashCode() {
    return Objects.hash(realSources, rows, average);
  }
}
