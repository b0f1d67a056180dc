package io.semspai.cli;

import io.semspai.eval.CsvFormatException;
import io.semspai.eval.Dataset;
import io.semspai.eval.DatasetCsv;
import io.semspai.eval.DatasetRow;
import io.semspai.eval.RowScore;
import io.semspai.engine.ModelOutput;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.image.RgbImage;
import io.semspai.perturb.PerturbationPipeline;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code semspai infer}: scores every row of a CSV in upstream's layout (or every image of a folder, listed into
 * one first) through the inference engine and writes the CSV back with the score columns, as upstream's
 * {@code python -m spai infer} does. {@code <tag>} and {@code <tag>_logit} are the verdict's score: the fusion
 * head's in fusion mode, SPAI's own in spectral mode; fusion mode adds {@code <tag>_spectral}, SPAI's own score.
 * A row that cannot be scored gets its reason code in {@code <tag>_error} and never stops the run.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    description = {
      "Score every image of a CSV (upstream layout: image[,class,split,source,...]) or of a folder and write the "
          + "CSV to OUTPUT with columns <tag> (sigmoid score; higher = more likely AI-generated), <tag>_logit, in "
          + "fusion mode <tag>_spectral (SPAI's own score) and, if any row failed, <tag>_error (its reason code).",
      "Exit codes: 0 every row scored; 3 the CSV was written but some rows failed (listed on stderr); "
          + "2 bad usage or input (no output written); 1 internal failure."
    })
public final class InferCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @picocli.CommandLine.Mixin DeviceOptions deviceOptions;

  @Option(names = "--model", required = true, description = "Bundle directory.")
  Path model;

  @Option(names = "--mode", defaultValue = "fusion",
      description = "fusion (Sem-SPAI: SPAI + ConvNeXt + fusion head; default) or spectral (SPAI alone; needs no "
          + "ConvNeXt weights).")
  String mode;

  @Option(names = "--input", required = true,
      description = "A CSV in upstream's layout, or a folder of images (not searched recursively; listed in "
          + "file-name order into OUTPUT/<folder name>.csv).")
  Path input;

  @Option(names = "--csv-root",
      description = "Folder that relative paths in the CSV's image column are resolved against (default: the CSV's "
          + "folder). Only files below it are read; http(s) URLs go through the intake's default safety policy.")
  Path csvRoot;

  @Option(names = "--output", required = true, description = "Folder for the CSV (created if missing).")
  Path output;

  @Option(names = "--tag", defaultValue = "semspai", description = "Score column name (default ${DEFAULT-VALUE}).")
  String tag;

  @Option(names = "--attention",
      description = "Also write OUTPUT/attention/<image>.png: the image with each SPAI patch box shaded by its "
          + "attention weight.")
  boolean attention;

  @picocli.CommandLine.Mixin ScoringOptions scoring;

  @Override
  public Integer call() {
    SemSpaiModel.Mode m = parseMode(mode);
    checkTag(tag);
    PerturbationPipeline pipeline = scoring.pipeline();
    int inFlight = scoring.inFlight();
    Dataset ds = readInput();
    if (ds.rows().isEmpty()) {
      throw new UserError("--input " + input + " holds no rows to score");
    }
    if (Files.exists(output) && !Files.isDirectory(output)) {
      throw new UserError("--output " + output + " exists and is not a folder");
    }
    Path csv = output.resolve(ds.csv() != null ? ds.csv().getFileName().toString() : ds.name() + ".csv");
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();

    long t0 = System.nanoTime();
    List<String> overlayFailures = java.util.Collections.synchronizedList(new ArrayList<>());
    List<OfflineScorer.Outcome> outcomes;
    AttentionOverlays overlays;
    try (OfflineScorer scorer =
        OfflineScorer.open(model, m, List.of(ds.root()), inFlight, deviceOptions.placement())) {
      try {
        Files.createDirectories(output);
      } catch (IOException e) {
        throw new UserError("cannot create --output " + output + ": " + e.getMessage());
      }
      overlays = attention ? new AttentionOverlays(output) : null;
      OfflineScorer.Listener listener = overlays == null ? new OfflineScorer.Listener() {}
          : new OfflineScorer.Listener() {
            @Override
            public void scored(DatasetRow row, RgbImage image, ModelOutput o) {
              try {
                overlays.write(row, image, o.attention());
              } catch (RuntimeException e) {
                // The score stands; a lost picture is reported, not turned into a failed row.
                overlayFailures.add("line " + row.line() + " " + row.image() + ": " + e.getMessage());
              }
            }
          };
      String label = ds.name() + (pipeline.isIdentity() ? "" : " " + pipeline.spec());
      outcomes = scorer.score(label, ds.rows(), pipeline, scoring.seed, listener);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    writeCsv(ds, outcomes, m == SemSpaiModel.Mode.FUSION, csv);

    long failed = outcomes.stream().filter(OfflineScorer.Outcome::failed).count();
    out.printf("wrote %s: %d images, %d scored, %d failed, in %.1f s (%.1f images/s)%n", csv, outcomes.size(),
        outcomes.size() - failed, failed, seconds, outcomes.size() / Math.max(seconds, 1e-9));
    if (overlays != null) {
      out.printf("wrote %d attention overlays to %s%n", overlays.count() - overlayFailures.size(), overlays.dir());
      overlayFailures.forEach(f -> err.println("attention overlay not written: " + f));
    }
    out.flush();
    OfflineScorer.reportFailures(err, ds.name(), outcomes, 50, "; each has its reason in column " + tag + "_error");
    return failed == 0 ? 0 : OfflineScorer.EXIT_ROWS_FAILED;
  }

  private Dataset readInput() {
    if (Files.isDirectory(input)) {
      if (csvRoot != null) {
        throw new UserError("--csv-root applies to a CSV input; a folder's images are read from the folder itself");
      }
      Dataset ds = DatasetCsv.listFolder(input, "test", null);
      if (ds.rows().isEmpty()) {
        throw new UserError("--input " + input + " holds no images (" + String.join(", ",
            DatasetCsv.IMAGE_EXTENSIONS.stream().sorted().toList()) + ")");
      }
      return ds;
    }
    if (!Files.isRegularFile(input)) {
      throw new UserError("--input " + input + (Files.exists(input) ? " is neither a CSV nor a folder"
          : " does not exist"));
    }
    return readCsv(input, csvRoot);
  }

  /** Reads a CSV, turning an unreadable file or a missing image column into a one-line usage error (exit 2). */
  static Dataset readCsv(Path csv, Path root) {
    if (root != null && !Files.isDirectory(root)) {
      throw new UserError("--csv-root " + root + (Files.exists(root) ? " is not a folder" : " does not exist"));
    }
    if (!Files.isRegularFile(csv)) {
      throw new UserError("CSV " + csv + (Files.exists(csv) ? " is not a file" : " does not exist"));
    }
    try {
      return DatasetCsv.read(csv, root == null ? null : root.toAbsolutePath().normalize());
    } catch (CsvFormatException e) {
      throw new UserError(e.getMessage());
    } catch (UncheckedIOException e) {
      throw new UserError(e.getMessage());
    }
  }

  /**
   * Writes the CSV back with {@code tag, tag_logit[, tag_spectral][, tag_error]}: existing columns of those names
   * are overwritten in place (a CSV can be scored again), new ones are appended in that order. The file appears
   * whole or not at all.
   */
  private void writeCsv(Dataset ds, List<OfflineScorer.Outcome> outcomes, boolean fusion, Path csv) {
    String spectralCol = tag + "_spectral";
    List<String> header = new ArrayList<>(ds.header());
    for (String c : List.of(tag, tag + "_logit")) {
      if (!header.contains(c)) {
        header.add(c);
      }
    }
    // In spectral mode <tag> is SPAI's own score already; a _spectral column left by an earlier fusion run is
    // refreshed rather than left stale beside the new score.
    boolean writeSpectral = fusion || header.contains(spectralCol);
    if (writeSpectral && !header.contains(spectralCol)) {
      header.add(spectralCol);
    }
    int spectralAt = header.indexOf(spectralCol);
    List<DatasetRow> rows = new ArrayList<>();
    List<RowScore> scores = new ArrayList<>();
    for (int i = 0; i < ds.rows().size(); i++) {
      DatasetRow r = ds.rows().get(i);
      OfflineScorer.Outcome o = outcomes.get(i);
      List<String> values = new ArrayList<>(r.values());
      while (values.size() < header.size()) {
        values.add("");
      }
      if (spectralAt >= 0) {
        RowScore s = o.spectralScore();
        values.set(spectralAt, s.isError() ? "" : Double.toString(s.score()));
      }
      rows.add(new DatasetRow(r.line(), values, r.image(), r.ref(), r.label(), r.split(), r.source(), r.problem()));
      scores.add(o.score());
    }
    Dataset widened = new Dataset(ds.csv(), ds.name(), ds.root(), header, rows);
    Path tmp = null;
    try {
      Files.createDirectories(csv.toAbsolutePath().getParent());
      tmp = Files.createTempFile(csv.toAbsolutePath().getParent(), "." + csv.getFileName(), ".partial");
      DatasetCsv.writeScored(widened, tmp, tag, scores);
      Files.move(tmp, csv, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UncheckedIOException e) {
      throw new UserError("cannot write " + csv + ": " + e.getMessage(), 1, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          // the move succeeded or the error above says what went wrong
        }
      }
    }
  }

  static SemSpaiModel.Mode parseMode(String mode) {
    try {
      return SemSpaiModel.Mode.parse(mode);
    } catch (IllegalArgumentException e) {
      throw new UserError("--mode must be fusion or spectral, got '" + mode + "'");
    }
  }

  static void checkTag(String tag) {
    if (!tag.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
      throw new UserError("--tag '" + tag + "' must start with a letter or _ and hold only letters, digits, _ . -");
    }
    if (List.of(Dataset.IMAGE, Dataset.CLASS, Dataset.SPLIT, Dataset.SOURCE).contains(tag)) {
      throw new UserError("--tag '" + tag + "' would overwrite the CSV's own '" + tag + "' column; choose another");
    }
  }
}
