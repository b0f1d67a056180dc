package io.semspai.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.bundle.BundleException;
import io.semspai.engine.InferenceEngine;
import io.semspai.eval.CsvFormatException;
import io.semspai.eval.Dataset;
import io.semspai.eval.DatasetCsv;
import io.semspai.eval.DatasetRow;
import io.semspai.eval.ImageRef;
import io.semspai.eval.ProgressBar;
import io.semspai.fusion.BackboneHashes;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.HeadBundle;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.fusion.ThresholdProfile;
import io.semspai.fusion.ThresholdProfiles;
import io.semspai.image.ImageIntake;
import io.semspai.image.ImageSource;
import io.semspai.image.IntakeException;
import io.semspai.image.IntakePolicy;
import io.semspai.image.IntakeReason;
import io.semspai.image.LoadedImage;
import io.semspai.nn.Placement;
import io.semspai.trainer.Derivatives;
import io.semspai.trainer.FeatureExtractor;
import io.semspai.trainer.HeadComparison;
import io.semspai.trainer.HeadRelease;
import io.semspai.trainer.HeadTrainer;
import io.semspai.trainer.Holdout;
import io.semspai.trainer.PromotionGate;
import io.semspai.trainer.TrainingExample;
import io.semspai.trainer.TrainingResult;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code semspai train-head}: the trainer service's retrain and promotion gate, offline, from CSVs in upstream's
 * layout. Features come from the model's frozen backbones through the intake (default safety policy, {@code file://}
 * below the CSV roots only) and the engine; the head trains on the {@code train} rows (and their derivatives with
 * {@code --augment}), early-stops and recalibrates on {@code val} (or a seeded fifth of {@code train}), and faces the
 * champion on the holdout: the {@code test} rows, or, without any, the images whose sha256 is 0 mod 5 (the service's
 * rule). Exit code 0 when promoted, 3 when rejected, 2 for bad input.
 */
@Command(
    name = "train-head",
    mixinStandardHelpOptions = true,
    description = {
        "Retrain the fusion head of a Sem-SPAI bundle on labelled images and run the trainer's promotion gate.",
        "CSV columns: image (path relative to --csv-root or the CSV's folder, or an http(s) URL), class (0 real, "
            + "1 AI), split (train, val, test). Holdout: the test rows; without any, images whose sha256 is 0 "
            + "mod 5. Validation: the val rows; without any, a seeded fifth of each class of train. Exit code 0 "
            + "when the challenger is promoted, 3 when it is rejected.",
        "--device and --precision place the backbones that compute the features; the head itself always trains "
            + "and is judged on the CPU in fp32 (a few thousand parameters on cached features)."})
public final class TrainHeadCommand implements Callable<Integer> {
  /** Exit code of a run whose challenger the gate rejected. */
  public static final int REJECTED = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin DeviceOptions deviceOptions;

  @Option(names = "--model", required = true, description = "Full Sem-SPAI bundle (fusion mode): its backbones "
      + "compute the features and its head is the champion.")
  Path model;

  @Option(names = "--head", description = "Head bundle to use as the champion instead of --model's own head "
      + "(trained on the same backbones).")
  Path head;

  @Option(names = "--csv", required = true, description = "Labelled CSV (repeatable).")
  List<Path> csvs;

  @Option(names = "--csv-root", description = "Folder image paths are relative to (default: each CSV's folder).")
  Path csvRoot;

  @Option(names = "--augment", description = "Each training image also contributes k derivative copies (JPEG 50-100,"
      + " rescale 0.5-1.5, blur 0.5-2, centred crop 0.7-0.95), seeded by the image.")
  boolean augment;

  @Option(names = "--k", defaultValue = "" + Derivatives.DEFAULT_K, description = "Derivative copies per training "
      + "image with --augment (default ${DEFAULT-VALUE}).")
  int k;

  @Option(names = "--out", description = "Write the challenger here as a head-only bundle when it is promoted.")
  Path out;

  @Option(names = "--force", description = "Write --out even when the challenger is rejected (the bundle's "
      + "release.status says REJECTED).")
  boolean force;

  @Option(names = "--out-name", description = "Name of the written head bundle (default: <model name>-head).")
  String name;

  @Option(names = "--out-version", description = "Version of the written head bundle (default: the champion's with the "
      + "patch number raised).")
  String version;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the validation split, the shuffles, dropout "
      + "and the training derivatives (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--epochs", description = "At most this many epochs (default 100).")
  Integer epochs;

  @Option(names = "--patience", description = "Stop after this many epochs without a better validation loss "
      + "(default 10).")
  Integer patience;

  @Option(names = "--batch-size", description = "Examples per step (default 32).")
  Integer batchSize;

  @Option(names = "--lr", description = "Peak learning rate (default 1e-3).")
  Double learningRate;

  @Option(names = "--min-auc", description = "Gate: the challenger's holdout AUC floor (default 0.70).")
  Double minAuc;

  @Option(names = "--min-ap", description = "Gate: the challenger's holdout AP floor (default 0.70).")
  Double minAp;

  /** Which part an image plays. */
  enum Role { TRAIN, VAL, HOLDOUT }

  /** One labelled image's features (and its derivatives'), once computed. */
  record Item(DatasetRow row, String sha256, int label, Role role, CompletableFuture<FeatureExtractor.Features> clean,
      List<CompletableFuture<FeatureExtractor.Features>> copies) {}

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter stdout = spec.commandLine().getOut();
    if (augment && k < 1) {
      throw new UserError("--k must be at least 1 with --augment, got " + k);
    }
    if (force && out == null) {
      throw new UserError("--force writes --out even when rejected; give --out");
    }
    if (out != null && Files.exists(out)) {
      throw new UserError("--out " + out + " already exists; choose a new folder");
    }
    Placement placement = deviceOptions.placement();
    HeadTrainer.Options options = options();
    PromotionGate.Rules rules = rules();
    List<Dataset> datasets = readCsvs(err);
    Derivatives derivatives = augment ? Derivatives.of(k, seed) : Derivatives.NONE;

    SemSpaiModel m = Bundles.load(model, SemSpaiModel.Mode.FUSION, placement);
    SemSpaiModel championModel = m;
    if (head != null) {
      try {
        championModel = m.swapHead(HeadBundle.open(head));
      } catch (BundleException e) {
        m.close();
        throw new UserError(e.getMessage());
      }
      m.close(); // the swapped model keeps the backbones
    }
    FusionConfig cfg = championModel.headConfig();
    Map<String, float[]> champion = championModel.headState();
    ThresholdProfiles championThresholds = championModel.thresholds();
    BackboneHashes trainedOn = championModel.backboneHashes();
    String parentName = championModel.name();
    String parentVersion = championModel.version();

    boolean hasTest = datasets.stream().anyMatch(d -> !d.rowsOfSplit("test").isEmpty() && d.hasSplit());
    List<Item> items = new ArrayList<>();
    Map<String, Integer> errors = new TreeMap<>();
    int skipped = 0;
    long t0 = System.nanoTime();
    Set<Path> roots = new LinkedHashSet<>();
    datasets.forEach(d -> roots.add(d.root().toAbsolutePath().normalize()));
    IntakePolicy policy = IntakePolicy.defaults().toBuilder().fileRoots(List.copyOf(roots)).build();
    int total = 0;
    for (Dataset d : datasets) {
      for (DatasetRow r : d.rows()) {
        total += role(r, d.hasSplit()) != null || !r.isValid() ? 1 : 0;
      }
    }
    err.println("features on " + placement.describe() + " (SPAI's FFT in fp32); the head trains on the CPU in fp32");
    try (InferenceEngine engine = new InferenceEngine(championModel, InferenceEngine.Options.defaults(
        championModel.bytesPerPatch(), placement, 0), new SimpleMeterRegistry());
        ImageIntake intake = new ImageIntake(policy);
        ProgressBar bar = progressBar(err, total)) {
      FeatureExtractor fx = new FeatureExtractor(engine);
      for (Dataset d : datasets) {
        for (DatasetRow r : d.rows()) {
          if (!r.isValid()) {
            errors.merge("BAD_ROW", 1, Integer::sum);
            bar.step(true);
            continue;
          }
          Role role = role(r, d.hasSplit());
          if (role == null) {
            skipped++;
            continue;
          }
          LoadedImage img;
          try {
            img = intake.load(source(r.ref()));
          } catch (IntakeException e) {
            if (errors.merge(e.reason().name(), 1, Integer::sum) <= 5) {
              err.println("line " + r.line() + " of " + d.csv().getFileName() + ": " + e.getMessage());
            }
            bar.step(true);
            continue;
          }
          String sha = img.fetched().sha256();
          if (!hasTest && role != Role.HOLDOUT && Holdout.inBucket(sha)) {
            role = Role.HOLDOUT;
          }
          CompletableFuture<FeatureExtractor.Features> clean = fx.submit(img.image(), sha, null);
          List<CompletableFuture<FeatureExtractor.Features>> copies = role == Role.VAL ? List.of()
              : fx.submitCopies(img.image(), sha, derivatives.of(sha, role == Role.HOLDOUT));
          List<CompletableFuture<?>> all = new ArrayList<>(copies);
          all.add(clean);
          CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> bar.step(e != null));
          items.add(new Item(r, sha, r.label(), role, clean, copies));
        }
      }
      for (Item it : items) {
        try {
          it.clean().join();
          it.copies().forEach(CompletableFuture::join);
        } catch (CompletionException e) {
          errors.merge("MODEL_FAILURE", 1, Integer::sum);
          err.println("line " + it.row().line() + ": features failed: " + e.getCause().getMessage());
        }
      }
    }
    double featureSeconds = (System.nanoTime() - t0) / 1e9;
    if (errors.containsKey(IntakeReason.PATH_NOT_ALLOWED.name())) {
      err.println("note: images are read only below --csv-root (default: each CSV's folder): " + roots);
    }

    Sets sets = assemble(items, errors, err);
    stdout.printf(Locale.ROOT, "features: %d images in %.1f s (%d train, %d val, %d holdout; %d derivatives)%s%n",
        sets.images, featureSeconds, sets.trainImages, sets.val.size(), sets.holdout.size(),
        sets.train.size() - sets.trainImages + sets.perturbedHoldout.size(),
        errors.isEmpty() && skipped == 0 ? "" : "; skipped " + skipped + " rows of other splits, errors " + errors);
    stdout.printf("holdout: %s%n", hasTest ? "the test rows" : "images whose sha256 is 0 mod 5 (no test rows)");
    stdout.flush();

    TrainingResult result;
    try {
      HeadTrainer.Listener progress = s -> {
        err.printf(Locale.ROOT, "epoch %3d  train loss %s  val loss %.4f  val AUC %s  lr %.2e  %d ms%n", s.epoch(),
            Double.isNaN(s.trainLoss()) ? "   -  " : String.format(Locale.ROOT, "%.4f", s.trainLoss()),
            s.validationLoss(), Double.isNaN(s.validationAuc()) ? "n/a" : String.format(Locale.ROOT, "%.4f",
                s.validationAuc()), s.learningRate(), s.millis());
        err.flush();
      };
      result = sets.val.isEmpty()
          ? HeadTrainer.train(champion, cfg, sets.train, options, progress)
          : HeadTrainer.train(champion, cfg, sets.train, sets.val, options, progress);
    } catch (IllegalArgumentException e) {
      throw new UserError("cannot train: " + e.getMessage());
    }
    double tHigh = championThresholds.balanced().tHigh();
    HeadComparison cmp;
    try {
      cmp = HeadComparison.run(cfg, champion, tHigh, result, sets.holdout, sets.perturbedHoldout, rules);
    } catch (IllegalArgumentException e) {
      throw new UserError("cannot judge the challenger: " + e.getMessage());
    }
    String holdoutVersion = Holdout.version(sets.holdout.stream().map(TrainingExample::key).toList());
    TrainingResult.Counts c = result.counts();
    stdout.printf(Locale.ROOT, "training: %d real / %d AI examples (%d derivatives), validation %d real / %d AI; "
        + "%d epochs, best %d%s, %.1f s; Platt scale %.3f shift %.3f%n", c.trainReal(), c.trainAi(),
        c.trainAugmented(), c.validationReal(), c.validationAi(), result.epochsRun(), result.bestEpoch(),
        result.stoppedEarly() ? " (stopped early)" : "", result.elapsed().toMillis() / 1e3,
        result.logitCalibration().scale(), result.logitCalibration().shift());
    stdout.println();
    stdout.print(cmp.table());
    stdout.println();
    stdout.println("gate (holdout " + holdoutVersion + "):");
    cmp.decision().reasons().forEach(r -> stdout.println("  " + r));
    stdout.println();
    ThresholdProfiles t = result.thresholds();
    for (ThresholdProfile p : List.of(t.balanced(), t.strict())) {
      stdout.printf(Locale.ROOT, "challenger %-8s t_low %.4f  t_high %.4f%n", p.name(), p.tLow(), p.tHigh());
    }
    stdout.println("(" + t.note() + ")");
    boolean promoted = cmp.promoted();
    stdout.println(promoted ? "PROMOTED: the challenger passes every check" : "REJECTED: " + cmp.decision().reasons()
        .stream().filter(r -> r.startsWith("FAILED")).count() + " check(s) failed");
    if (out != null) {
      if (promoted || force) {
        String n = name != null ? name : parentName.endsWith("-head") ? parentName : parentName + "-head";
        String v = version != null ? version : nextPatch(parentVersion);
        Path dir;
        try {
          dir = HeadRelease.write(out, n, v, cfg, result, cmp, trainedOn, parentName, parentVersion, holdoutVersion);
        } catch (IllegalArgumentException e) {
          throw new UserError("cannot write --out: " + e.getMessage());
        }
        stdout.printf("wrote %s: %s %s (%s)%n", dir, n, v, promoted ? "PROMOTED" : "REJECTED, written with --force");
      } else {
        stdout.println("not written: " + out + " (the challenger was rejected; --force writes it, marked REJECTED)");
      }
    }
    stdout.flush();
    return promoted ? 0 : REJECTED;
  }

  /** The bar on the command's error stream (stderr, or what a caller set): redrawn in place on a terminal. */
  private static ProgressBar progressBar(PrintWriter err, int total) {
    OutputStream bytes = new OutputStream() {
      private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

      @Override
      public void write(int b) {
        buf.write(b);
      }

      @Override
      public void flush() {
        err.print(buf.toString(StandardCharsets.UTF_8));
        err.flush();
        buf.reset();
      }
    };
    return new ProgressBar("features", total, new PrintStream(bytes, true, StandardCharsets.UTF_8),
        System.console() != null, System::nanoTime, 10_000_000_000L);
  }

  /** The training, validation and holdout sets, after duplicates and conflicts are resolved. */
  record Sets(List<TrainingExample> train, List<TrainingExample> val, List<TrainingExample> holdout,
      List<TrainingExample> perturbedHoldout, int trainImages, int images) {}

  /**
   * One example per image (by sha256): an image listed twice with different labels is dropped (its rows are
   * reported); listed in several roles, the holdout wins, then validation, so no holdout image is ever trained on.
   */
  static Sets assemble(List<Item> items, Map<String, Integer> errors, PrintWriter err) {
    Map<String, Item> bySha = new LinkedHashMap<>();
    Set<String> conflicting = new LinkedHashSet<>();
    for (Item it : items) {
      if (it.clean().isCompletedExceptionally() || it.copies().stream()
          .anyMatch(CompletableFuture::isCompletedExceptionally)) {
        continue;
      }
      Item prev = bySha.get(it.sha256());
      if (prev == null) {
        bySha.put(it.sha256(), it);
      } else if (prev.label() != it.label()) {
        conflicting.add(it.sha256());
        err.println("line " + prev.row().line() + " and line " + it.row().line() + " hold the same image with "
            + "labels " + prev.label() + " and " + it.label() + "; dropping it");
      } else if (rank(it.role()) > rank(prev.role())) {
        bySha.put(it.sha256(), it);
      }
    }
    conflicting.forEach(bySha::remove);
    if (!conflicting.isEmpty()) {
      errors.merge("CONFLICTING_LABELS", conflicting.size(), Integer::sum);
    }
    List<TrainingExample> train = new ArrayList<>();
    List<TrainingExample> val = new ArrayList<>();
    List<TrainingExample> holdout = new ArrayList<>();
    List<TrainingExample> perturbed = new ArrayList<>();
    int trainImages = 0;
    for (Item it : bySha.values()) {
      TrainingExample e = it.clean().join().toExample(it.label(), 1.0);
      switch (it.role()) {
        case TRAIN -> {
          train.add(e);
          trainImages++;
          it.copies().forEach(f -> train.add(f.join().toExample(it.label(), 1.0)));
        }
        case VAL -> val.add(e);
        case HOLDOUT -> {
          holdout.add(e);
          it.copies().forEach(f -> perturbed.add(f.join().toExample(it.label(), 1.0)));
        }
      }
    }
    return new Sets(train, val, holdout, perturbed, trainImages, bySha.size());
  }

  private static int rank(Role r) {
    return switch (r) {
      case TRAIN -> 0;
      case VAL -> 1;
      case HOLDOUT -> 2;
    };
  }

  /** A row's role from its split; null for a split this command does not use. Without a split column: train. */
  static Role role(DatasetRow r, boolean hasSplit) {
    if (!hasSplit) {
      return Role.TRAIN;
    }
    String s = r.split() == null ? "" : r.split().trim().toLowerCase(Locale.ROOT);
    return switch (s) {
      case "train" -> Role.TRAIN;
      case "val", "validation" -> Role.VAL;
      case "test" -> Role.HOLDOUT;
      default -> null;
    };
  }

  private static ImageSource source(ImageRef ref) throws IntakeException {
    if (ref instanceof ImageRef.LocalFile f) {
      return ImageSource.file(f.path());
    }
    return ImageSource.parse(((ImageRef.Remote) ref).uri().toString());
  }

  private List<Dataset> readCsvs(PrintWriter err) {
    List<Dataset> out = new ArrayList<>();
    for (Path csv : csvs) {
      if (!Files.isRegularFile(csv)) {
        throw new UserError("--csv " + csv + (Files.exists(csv) ? " is not a file" : " does not exist"));
      }
      Dataset d;
      try {
        d = DatasetCsv.read(csv, csvRoot).requireLabels();
      } catch (CsvFormatException e) {
        throw new UserError(e.getMessage());
      }
      d.problems().stream().limit(10).forEach(p -> err.println(csv.getFileName() + " line " + p.line() + ": "
          + p.message()));
      if (d.problems().size() > 10) {
        err.println(csv.getFileName() + ": " + (d.problems().size() - 10) + " more bad rows");
      }
      out.add(d);
    }
    return out;
  }

  private HeadTrainer.Options options() {
    HeadTrainer.Options o = HeadTrainer.Options.defaults().withSeed(seed);
    try {
      if (epochs != null || patience != null) {
        o = o.withEpochs(epochs != null ? epochs : o.maxEpochs(), patience != null ? patience : o.patience());
      }
      if (batchSize != null) {
        o = o.withBatchSize(batchSize);
      }
      if (learningRate != null) {
        o = o.withLearningRate(learningRate);
      }
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    return o;
  }

  private PromotionGate.Rules rules() {
    PromotionGate.Rules d = PromotionGate.Rules.defaults();
    return new PromotionGate.Rules(minAuc != null ? minAuc : d.minAuc(), minAp != null ? minAp : d.minAp(),
        d.rankMargin(), d.fprMargin(), d.eceMargin(), d.perturbedAucMargin(), d.resamples(), d.seed());
  }

  private static final Pattern SEMVER = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+).*");

  /** {@code 1.4.2} → {@code 1.4.3} (pre-release and build parts dropped). */
  static String nextPatch(String version) {
    Matcher m = SEMVER.matcher(version);
    if (!m.matches()) {
      return "0.0.1";
    }
    return m.group(1) + "." + m.group(2) + "." + (Long.parseLong(m.group(3)) + 1);
  }
}
