package io.semspai.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semspai.eval.Dataset;
import io.semspai.eval.DatasetRow;
import io.semspai.eval.EvalProfile;
import io.semspai.eval.EvalSet;
import io.semspai.eval.EvalSummary;
import io.semspai.eval.Json;
import io.semspai.eval.RobustnessTable;
import io.semspai.eval.RowScore;
import io.semspai.eval.report.HtmlReport;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.fusion.ThresholdProfile;
import io.semspai.fusion.ThresholdProfiles;
import io.semspai.perturb.DerivativeWriter;
import io.semspai.perturb.PerturbationPipeline;
import io.semspai.perturb.Perturbed;
import io.semspai.perturb.Sweep;
import io.semspai.perturb.SweepPoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code semspai eval}: upstream's {@code python -m spai test} on the project's engine. Scores the rows of one split
 * of each labelled CSV and reports AUC, AP, accuracy at 0.5 and at each threshold profile's t_high with the UNCERTAIN
 * rate, the error counts and, with a {@code source} column, the SPAI paper's per-generator table. In fusion mode the
 * same pass also yields SPAI's own score, reported as mode {@code spectral} beside {@code fusion}: the comparison the
 * fusion exists for, at no extra cost. {@code --sweep} repeats the evaluation at each perturbation strength and
 * prints the robustness table.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate a bundle on labelled CSVs (upstream layout: image,class,split[,source]): AUC, AP, accuracy at 0.5 "
          + "and at each profile's t_high with the UNCERTAIN rate, error counts, per-source table; optional "
          + "robustness sweeps, derivative images, JSON and an HTML report.",
      "Fusion mode reports the fused score (mode 'fusion') and SPAI's own score from the same pass (mode "
          + "'spectral').",
      "Exit codes: 0 every row scored; 3 results were written but some rows failed (counted per reason); "
          + "2 bad usage or input (nothing written); 1 internal failure."
    })
public final class EvalCommand implements Callable<Integer> {
  static final String FUSION = "fusion";
  static final String SPECTRAL = "spectral";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @picocli.CommandLine.Mixin DeviceOptions deviceOptions;

  @Option(names = "--model", required = true, description = "Bundle directory.")
  Path model;

  @Option(names = "--csv", required = true, paramLabel = "CSV",
      description = "A labelled CSV; repeat for several (each is reported on its own, named after its file stem).")
  List<Path> csvs;

  @Option(names = "--csv-root",
      description = "Folder that relative image paths are resolved against (default: each CSV's folder). Only files "
          + "below it are read; http(s) URLs go through the intake's default safety policy.")
  Path csvRoot;

  @Option(names = "--mode", defaultValue = "fusion",
      description = "fusion (default; also reports SPAI's own score as 'spectral') or spectral (SPAI alone).")
  String mode;

  @Option(names = "--split", defaultValue = "test",
      description = "Rows of this split are evaluated (default ${DEFAULT-VALUE}, as upstream); a CSV without a split "
          + "column is evaluated whole.")
  String split;

  @Option(names = "--json", paramLabel = "OUT.json", description = "Write every result as JSON.")
  Path json;

  @picocli.CommandLine.Mixin ScoringOptions scoring;

  @Option(names = "--sweep", paramLabel = "KIND=V1,V2,...",
      description = "Evaluate each strength separately on top of --perturb, e.g. --sweep jpeg=95,75,50 --sweep "
          + "scale=0.5,0.75 (repeatable, one kind each); prints the robustness table.")
  List<String> sweeps = new ArrayList<>();

  @Option(names = "--write-derivatives", paramLabel = "DIR",
      description = "Save the perturbed images with a CSV per perturbation and input CSV: "
          + "DIR/<perturbation>/<csv name>/<csv name>.csv.")
  Path derivatives;

  @Option(names = "--report", paramLabel = "DIR",
      description = "Write an HTML report (index.html + PNG charts: ROC, histograms, robustness curves).")
  Path report;


  /** One CSV and the rows of the selected split. */
  private record Input(Dataset dataset, List<DatasetRow> rows) {}

  @Override
  public Integer call() {
    SemSpaiModel.Mode m = InferCommand.parseMode(mode);
    PerturbationPipeline base = scoring.pipeline();
    List<SweepPoint> points;
    try {
      points = Sweep.parse(sweeps).points(base);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    if (derivatives != null && base.isIdentity() && points.isEmpty()) {
      throw new UserError("--write-derivatives needs --perturb or --sweep: there is nothing to derive");
    }
    int inFlight = scoring.inFlight();
    checkOutputTargets();
    List<Input> inputs = readInputs();

    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Path> roots = inputs.stream().map(i -> i.dataset().root()).distinct().toList();
    List<String> modes = m == SemSpaiModel.Mode.FUSION ? List.of(FUSION, SPECTRAL) : List.of(SPECTRAL);
    boolean anyFailed = false;

    List<EvalSet> cleanSets = new ArrayList<>();
    List<EvalSummary> clean = new ArrayList<>();
    RobustnessTable table = new RobustnessTable();
    ArrayNode failures = Json.MAPPER.createArrayNode();
    ObjectNode modelJson = Json.MAPPER.createObjectNode();
    ObjectNode thresholdsJson = Json.MAPPER.createObjectNode();
    long t0 = System.nanoTime();
    int processed = 0;
    try (OfflineScorer scorer = OfflineScorer.open(model, m, roots, inFlight, deviceOptions.placement())) {
      SemSpaiModel sm = scorer.model();
      Map<String, ThresholdProfiles> thresholds = new LinkedHashMap<>();
      if (m == SemSpaiModel.Mode.FUSION) {
        thresholds.put(FUSION, scorer.serving().thresholds());
      }
      thresholds.put(SPECTRAL, scorer.spectralThresholds());
      Map<String, List<EvalProfile>> profiles = new LinkedHashMap<>();
      thresholds.forEach((k, v) -> {
        profiles.put(k, v.profiles().values().stream().map(ThresholdProfile::toEvalProfile).toList());
        thresholdsJson.set(k, v.toJson());
      });
      modelJson.put("dir", model.toAbsolutePath().normalize().toString());
      modelJson.put("name", sm.name());
      modelJson.put("version", sm.version());
      modelJson.put("mode", sm.mode().json());
      modelJson.put("input_policy", scorer.serving().inputPolicy());

      out.printf("model %s %s, %s mode%s, split %s, perturbation %s%n", sm.name(), sm.version(), sm.mode().json(),
          m == SemSpaiModel.Mode.FUSION ? " (SPAI's own score reported as 'spectral')" : "", split, base.spec());
      thresholds.forEach((k, v) -> {
        if (!v.calibrated()) {
          out.printf("note: %s thresholds are uncalibrated placeholders%s%n", k,
              v.note() == null ? "" : " (" + v.note() + ")");
        }
      });
      out.println();
      out.flush();

      for (Input in : inputs) {
        List<OfflineScorer.Outcome> outcomes = run(scorer, in, base);
        processed += outcomes.size();
        anyFailed |= outcomes.stream().anyMatch(OfflineScorer.Outcome::failed);
        for (String md : modes) {
          EvalSet set = EvalSet.of(in.dataset().name(), md, in.rows(), scores(outcomes, md));
          EvalSummary summary = EvalSummary.of(set, profiles.get(md));
          cleanSets.add(set);
          clean.add(summary);
          table.addClean(summary);
          out.print(summary.toText());
          out.println();
        }
        out.flush();
        OfflineScorer.reportFailures(err, in.dataset().name(), outcomes, 50, "");
        for (OfflineScorer.Outcome o : outcomes) {
          if (o.failed()) {
            ObjectNode f = failures.addObject();
            f.put("dataset", in.dataset().name());
            f.put("line", o.row().line());
            f.put("image", o.row().image());
            f.put("reason", o.reason());
            f.put("message", o.message());
          }
        }
      }
      for (SweepPoint p : points) {
        for (Input in : inputs) {
          List<OfflineScorer.Outcome> outcomes = run(scorer, in, p.pipeline());
          processed += outcomes.size();
          Map<String, Integer> reasons = OfflineScorer.reasons(outcomes);
          if (!reasons.isEmpty()) {
            anyFailed = true;
            err.printf("%s %s: %d of %d rows failed (%s)%n", in.dataset().name(), p.label(),
                reasons.values().stream().mapToInt(Integer::intValue).sum(), outcomes.size(),
                reasons.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                    .collect(Collectors.joining(", ")));
          }
          for (String md : modes) {
            EvalSet set = EvalSet.of(in.dataset().name(), md, in.rows(), scores(outcomes, md));
            table.add(p.kind().key(), p.strength(), p.label(), EvalSummary.of(set, profiles.get(md)));
          }
        }
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;

    if (clean.size() > 1) {
      out.println("== all CSVs ==");
      out.print(EvalSummary.table(clean));
      out.println();
    }
    if (!points.isEmpty()) {
      out.println("== robustness ==");
      out.print(table.toText());
      out.println();
    }
    out.printf("%d rows processed in %.1f s (%.1f images/s)%n", processed, seconds,
        processed / Math.max(seconds, 1e-9));

    if (json != null) {
      ObjectNode root = Json.MAPPER.createObjectNode();
      root.put("command", "eval");
      root.put("created", Instant.now().toString());
      root.set("model", modelJson);
      root.set("thresholds", thresholdsJson);
      root.put("split", split);
      root.put("perturb", base.spec());
      root.put("seed", scoring.seed);
      root.set("results", EvalSummary.toJson(clean));
      if (!points.isEmpty()) {
        root.set("robustness", table.toJson());
      }
      if (derivatives != null) {
        root.set("derivatives", derived);
      }
      root.set("failures", failures);
      try {
        Path parent = json.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Json.MAPPER.writeValue(json.toFile(), root);
      } catch (IOException e) {
        throw new UserError("cannot write --json " + json + ": " + e.getMessage(), 1, e);
      }
      out.println("wrote " + json);
    }
    if (report != null) {
      HtmlReport r = HtmlReport.titled("Sem-SPAI evaluation: " + modelJson.get("name").asText() + " "
          + modelJson.get("version").asText())
          .note("semspai eval " + String.join(" ", spec.commandLine().getParseResult().originalArgs()))
          .note(modelJson.get("mode").asText() + " mode, SPAI input " + modelJson.get("input_policy").asText()
              + ", split " + split + ", perturbation " + base.spec() + ", " + Instant.now());
      for (int i = 0; i < clean.size(); i++) {
        r.add(cleanSets.get(i), clean.get(i));
      }
      if (!points.isEmpty()) {
        r.robustness(table);
      }
      HtmlReport.Output written;
      try {
        written = r.write(report);
      } catch (UncheckedIOException e) {
        throw new UserError("cannot write --report " + report + ": " + e.getMessage(), 1, e);
      }
      out.println("wrote " + written.index() + " (" + written.charts().size() + " charts)");
    }
    if (derivatives != null) {
      for (var d : derived) {
        out.printf("wrote %d derivatives to %s%s%n", d.get("written").asInt(), d.get("csv").asText(),
            d.get("skipped").isEmpty() ? "" : ", skipped " + d.get("skipped"));
      }
    }
    out.flush();
    return anyFailed ? OfflineScorer.EXIT_ROWS_FAILED : 0;
  }

  /** Derivatives written in this run: one entry per perturbation and CSV. */
  private final ArrayNode derived = Json.MAPPER.createArrayNode();

  /** Scores one CSV under one pipeline, saving its derivatives when asked. */
  private List<OfflineScorer.Outcome> run(OfflineScorer scorer, Input in, PerturbationPipeline pipeline) {
    DerivativeWriter writer = derivatives == null || pipeline.isIdentity() ? null
        : new DerivativeWriter(derivatives.resolve(slug(pipeline)).resolve(in.dataset().name()), in.dataset(),
            pipeline);
    OfflineScorer.Listener listener = writer == null ? new OfflineScorer.Listener() {}
        : new OfflineScorer.Listener() {
          @Override
          public void perturbed(DatasetRow row, Perturbed image) {
            try {
              writer.write(row, image);
            } catch (RuntimeException e) {
              // The image is still scored; only its derivative is missing, and the CSV leaves it out.
              writer.skip(row, "WRITE_FAILED");
              spec.commandLine().getErr().println("derivative not written: line " + row.line() + " " + row.image()
                  + ": " + e.getMessage());
            }
          }

          @Override
          public void skipped(DatasetRow row, String reason) {
            writer.skip(row, reason);
          }
        };
    String label = in.dataset().name() + (pipeline.isIdentity() ? "" : " " + pipeline.spec());
    List<OfflineScorer.Outcome> outcomes = scorer.score(label, in.rows(), pipeline, scoring.seed, listener);
    if (writer != null) {
      Path csv = writer.finish();
      ObjectNode d = derived.addObject();
      d.put("dataset", in.dataset().name());
      d.put("perturbation", pipeline.spec());
      d.put("csv", csv.toString());
      d.put("written", writer.writtenCount());
      ObjectNode skipped = d.putObject("skipped");
      writer.skipped().forEach(skipped::put);
    }
    return outcomes;
  }

  /** A folder name for a pipeline's derivatives: {@code jpeg=75,blur=1} → {@code jpeg_75+blur_1}. */
  static String slug(PerturbationPipeline pipeline) {
    return pipeline.spec().replace('=', '_').replace(',', '+');
  }

  private static List<RowScore> scores(List<OfflineScorer.Outcome> outcomes, String mode) {
    return outcomes.stream().map(o -> mode.equals(FUSION) ? o.score() : o.spectralScore()).toList();
  }

  private void checkOutputTargets() {
    if (json != null && Files.isDirectory(json)) {
      throw new UserError("--json " + json + " is a folder; give a file name");
    }
    for (Path dir : new Path[] {report, derivatives}) {
      if (dir != null && Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new UserError(dir + " exists and is not a folder");
      }
    }
  }

  /** Reads every CSV before the model loads, so a typo fails in a second rather than after the load. */
  private List<Input> readInputs() {
    List<Input> inputs = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Path csv : csvs) {
      Dataset ds = InferCommand.readCsv(csv, csvRoot);
      if (!ds.hasLabels()) {
        throw new UserError(csv + ": no 'class' column; evaluation needs labels (0 real, 1 AI). To score an "
            + "unlabelled CSV use `semspai infer`");
      }
      if (!names.add(ds.name())) {
        throw new UserError("two CSVs are named '" + ds.name() + "'; results are reported by file stem, so rename "
            + "one");
      }
      List<DatasetRow> rows = ds.rowsOfSplit(split);
      if (rows.isEmpty()) {
        String present = ds.rows().stream().map(DatasetRow::split).filter(s -> s != null && !s.isBlank()).distinct()
            .sorted().collect(Collectors.joining(", "));
        throw new UserError(csv + ": no rows of split '" + split + "'" + (present.isEmpty() ? " (the CSV has no rows)"
            : " (it has: " + present + "); choose one with --split"));
      }
      inputs.add(new Input(ds, rows));
    }
    return inputs;
  }
}
