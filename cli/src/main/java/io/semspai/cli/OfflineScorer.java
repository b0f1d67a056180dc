package io.semspai.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.ModelBundle;
import io.semspai.engine.Detection;
import io.semspai.engine.EngineException;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.ModelOutput;
import io.semspai.engine.ServingModels;
import io.semspai.eval.CsvProblem;
import io.semspai.eval.DatasetRow;
import io.semspai.eval.ImageRef;
import io.semspai.eval.ProgressBar;
import io.semspai.eval.RowScore;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.fusion.ThresholdProfiles;
import io.semspai.image.DecodedImage;
import io.semspai.image.FetchedImage;
import io.semspai.image.ImageIntake;
import io.semspai.image.ImageSource;
import io.semspai.image.IntakeException;
import io.semspai.image.IntakePolicy;
import io.semspai.image.RgbImage;
import io.semspai.nn.Placement;
import io.semspai.perturb.PerturbationPipeline;
import io.semspai.perturb.Perturbed;
import io.semspai.perturb.Seeds;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model bundle served for offline work ({@code infer}, {@code eval}, and any other command that scores a CSV): the
 * bundle loaded once, the {@link InferenceEngine} over it, and an {@link ImageIntake} with its default safety
 * policy that reads files only below the given roots. {@link #score} runs the rows of a dataset through intake →
 * perturbation → engine with a bounded window of images in flight, so the engine can pack patches of many images
 * into one batch while memory stays bounded, and turns every failure into a reason code instead of stopping.
 */
final class OfflineScorer implements AutoCloseable {
  /** Exit code of a run that wrote all its results but where some rows have no score (each has a reason code). */
  static final int EXIT_ROWS_FAILED = 3;

  /** Engine failures, named as the detector names them so one reason means the same thing everywhere. */
  static final String TOO_LARGE_FOR_MEMORY_BUDGET = "TOO_LARGE_FOR_MEMORY_BUDGET";
  static final String ENGINE_OVERLOADED = "ENGINE_OVERLOADED";
  static final String ENGINE_CLOSED = "ENGINE_CLOSED";
  static final String MODEL_ERROR = "MODEL_ERROR";
  /** A perturbation that could not be applied to this image. */
  static final String PERTURB_FAILED = "PERTURB_FAILED";

  /**
   * What one row produced: the verdict's score (fused in fusion mode) and SPAI's own, or the reason code (an
   * {@code IntakeReason}, {@code BAD_ROW} or an engine reason) and a message naming the image. Only the numbers are
   * kept, not the features: a run over 100,000 images must not hold 100,000 feature vectors.
   */
  record Outcome(DatasetRow row, RowScore score, RowScore spectralScore, String reason, String message) {
    static Outcome failed(DatasetRow row, String reason, String message) {
      RowScore e = RowScore.error(reason);
      return new Outcome(row, e, e, reason, message);
    }

    static Outcome scored(DatasetRow row, ModelOutput o) {
      return new Outcome(row, RowScore.of(exact(o.score()), exact(o.logit())),
          RowScore.of(exact(o.spectralScore()), exact(o.spectralLogit())), null, null);
    }

    boolean failed() {
      return reason != null;
    }
  }

  /** Called from worker threads while a dataset is scored; implementations must be thread-safe. */
  interface Listener {
    /** The image after the perturbation pipeline, before it is scored (only when the pipeline changes it). */
    default void perturbed(DatasetRow row, Perturbed image) {}

    /** A row that failed before it could be perturbed: missing, unreadable, refused or a bad CSV row. */
    default void skipped(DatasetRow row, String reason) {}

    /** The image the model saw and what it computed. */
    default void scored(DatasetRow row, RgbImage image, ModelOutput output) {}
  }

  private final ModelBundle bundle;
  private final ServingModels.Serving serving;
  private final InferenceEngine engine;
  private final ImageIntake intake;
  private final ExecutorService pool;
  private final int inFlight;

  private OfflineScorer(ModelBundle bundle, ServingModels.Serving serving, InferenceEngine engine, ImageIntake intake,
      int inFlight, int threads) {
    this.bundle = bundle;
    this.serving = serving;
    this.engine = engine;
    this.intake = intake;
    this.inFlight = inFlight;
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "offline-intake-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Loads the bundle in {@code mode} and starts the engine with its defaults for the model.
   *
   * @param fileRoots folders the intake may read below (the CSV roots); every other path is refused
   * @param inFlight images loaded or being scored at once; 0 for the default (twice the engine's batch, 8 to 128)
   * @throws UserError (exit 2) for a missing, corrupt or unusable bundle
   */
  static OfflineScorer open(Path bundleDir, SemSpaiModel.Mode mode, Collection<Path> fileRoots, int inFlight,
      Placement placement) {
    ModelBundle b = Bundles.open(bundleDir);
    ServingModels.Serving serving;
    try {
      serving = ServingModels.open(b, mode, placement);
    } catch (BundleException e) {
      throw new UserError(e.getMessage());
    }
    SemSpaiModel model = serving.model();
    InferenceEngine engine;
    try {
      // A small answer cache: a dataset rarely repeats an image, and each entry holds the image's features.
      engine = new InferenceEngine(model, InferenceEngine.Options.defaults(model.bytesPerPatch(), placement, 0)
          .withCache(1024), new SimpleMeterRegistry());
    } catch (IllegalArgumentException e) {
      model.close();
      throw new UserError(e.getMessage());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    System.err.println("scoring on " + placement.describe() + " (SPAI's FFT in fp32), " + engine.options()
        .maxBatchPatches() + " patches per batch at most");
    List<Path> roots = fileRoots.stream().map(p -> p.toAbsolutePath().normalize()).distinct().toList();
    ImageIntake intake = new ImageIntake(IntakePolicy.defaults().toBuilder().fileRoots(roots).build());
    int window = inFlight > 0 ? inFlight : Math.max(8, Math.min(128, 2 * engine.options().maxBatchPatches()));
    int threads = Math.min(window, Math.max(4, Runtime.getRuntime().availableProcessors()));
    return new OfflineScorer(b, serving, engine, intake, window, threads);
  }

  ModelBundle bundle() {
    return bundle;
  }

  ServingModels.Serving serving() {
    return serving;
  }

  SemSpaiModel model() {
    return serving.model();
  }

  InferenceEngine engine() {
    return engine;
  }

  int inFlight() {
    return inFlight;
  }

  /**
   * The profiles for SPAI's own score: the bundle's when they were set on it, otherwise the uncalibrated 0.5/0.5
   * placeholders, as {@link SemSpaiModel} gives a spectral-mode load. Fusion mode computes SPAI's score on the way,
   * so {@code eval} reports it beside the fused one without loading the bundle twice.
   */
  ThresholdProfiles spectralThresholds() {
    if (model().mode() == SemSpaiModel.Mode.SPECTRAL) {
      return serving.thresholds();
    }
    var node = bundle.manifest().other().get(ThresholdProfiles.FIELD);
    if (node != null) {
      try {
        ThresholdProfiles t = ThresholdProfiles.fromJson(node);
        if (t.appliesTo() == ThresholdProfiles.Score.SPECTRAL) {
          return t;
        }
        return ThresholdProfiles.uncalibrated(ThresholdProfiles.Score.SPECTRAL, "the bundle's profiles were set on "
            + "the " + t.appliesTo().json() + " score; for SPAI's own score these are placeholders");
      } catch (IllegalArgumentException e) {
        // SemSpaiModel.load already accepted the bundle's thresholds; unreachable in practice.
      }
    }
    return ThresholdProfiles.uncalibrated(ThresholdProfiles.Score.SPECTRAL, "the bundle carries no thresholds");
  }

  /**
   * Scores rows in order of submission, at most {@link #inFlight()} at once, and returns one outcome per row in the
   * rows' order. Never throws for a bad row: a CSV problem is {@code BAD_ROW}, an intake refusal its
   * {@code IntakeReason}, an engine refusal its engine reason.
   *
   * @param label the progress bar's label
   * @param pipeline applied to each decoded image with the seed {@code Seeds.forImage(baseSeed, row.image())}
   */
  List<Outcome> score(String label, List<DatasetRow> rows, PerturbationPipeline pipeline, long baseSeed,
      Listener listener) {
    Outcome[] outcomes = new Outcome[rows.size()];
    Semaphore window = new Semaphore(inFlight);
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    try (ProgressBar bar = ProgressBar.onStderr(label, rows.size())) {
      for (int i = 0; i < rows.size(); i++) {
        DatasetRow row = rows.get(i);
        if (!row.isValid()) {
          CsvProblem p = row.problem();
          outcomes[i] = Outcome.failed(row, p.reason(), "line " + p.line() + ": " + p.message());
          listener.skipped(row, p.reason());
          bar.step(true);
          continue;
        }
        window.acquireUninterruptibly();
        int at = i;
        CompletableFuture<Void> f = CompletableFuture.supplyAsync(() -> load(row, pipeline, baseSeed, listener), pool)
            .thenCompose(loaded -> loaded.failure() != null
                ? CompletableFuture.completedFuture(loaded.failure())
                : submit(row, loaded, listener))
            .handle((o, e) -> o != null ? o
                : Outcome.failed(row, MODEL_ERROR, "image " + row.image() + ": " + cause(e)))
            .thenAccept(o -> {
              outcomes[at] = o;
              window.release();
              bar.step(o.failed());
            });
        pending.add(f);
      }
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    }
    return List.of(outcomes);
  }

  /** A decoded (and perturbed) image ready for the engine, or the outcome of a row that failed on the way. */
  private record Loaded(RgbImage image, String key, long decodeNanos, Outcome failure) {}

  private Loaded load(DatasetRow row, PerturbationPipeline pipeline, long baseSeed, Listener listener) {
    FetchedImage fetched;
    DecodedImage decoded;
    long decodeNanos;
    try {
      ImageSource source = row.ref() instanceof ImageRef.LocalFile f
          ? ImageSource.file(f.path())
          : ImageSource.parse(((ImageRef.Remote) row.ref()).uri().toString());
      fetched = intake.fetch(source);
      long t0 = System.nanoTime();
      decoded = intake.decode(fetched.bytes(), fetched.source());
      decodeNanos = System.nanoTime() - t0;
    } catch (IntakeException e) {
      listener.skipped(row, e.reason().name());
      return failed(row, e.reason().name(), e.getMessage());
    } catch (RuntimeException e) {
      listener.skipped(row, "READ_FAILED");
      return failed(row, "READ_FAILED", "image " + row.image() + ": " + e);
    }
    RgbImage image = decoded.image();
    String key = fetched.sha256();
    if (!pipeline.isIdentity()) {
      long seed = Seeds.forImage(baseSeed, row.image());
      Perturbed p;
      try {
        p = pipeline.apply(image, seed);
      } catch (RuntimeException e) {
        listener.skipped(row, PERTURB_FAILED);
        return failed(row, PERTURB_FAILED, "image " + row.image() + ": " + pipeline.spec() + " failed: "
            + e.getMessage());
      }
      listener.perturbed(row, p);
      image = p.image();
      // The engine caches answers by this key: a derivative must never be answered with the clean image's score.
      key = sha256(fetched.sha256() + "|" + pipeline.spec() + "|" + seed);
    }
    return new Loaded(image, key, decodeNanos, null);
  }

  private static Loaded failed(DatasetRow row, String reason, String message) {
    return new Loaded(null, null, 0, Outcome.failed(row, reason, message));
  }

  private CompletableFuture<Outcome> submit(DatasetRow row, Loaded l, Listener listener) {
    CompletableFuture<Detection> d;
    try {
      d = engine.submit(l.image(), l.key(), l.decodeNanos());
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(engineFailure(row, e));
    }
    // Async: the listener may write files, which must not stall the engine's worker thread that completes d.
    return d.handleAsync((det, err) -> {
      if (err != null) {
        return engineFailure(row, err instanceof CompletionException && err.getCause() != null ? err.getCause() : err);
      }
      ModelOutput o = det.output();
      if (!Float.isFinite(o.logit()) || !Float.isFinite(o.spectralLogit())) {
        return Outcome.failed(row, MODEL_ERROR, "image " + row.image() + ": the model gave a non-finite logit");
      }
      listener.scored(row, l.image(), o);
      return Outcome.scored(row, o);
    }, pool);
  }

  private static Outcome engineFailure(DatasetRow row, Throwable e) {
    String reason = e instanceof EngineException.TooLargeForBudget ? TOO_LARGE_FOR_MEMORY_BUDGET
        : e instanceof EngineException.Overloaded ? ENGINE_OVERLOADED
        : e instanceof EngineException.Closed ? ENGINE_CLOSED : MODEL_ERROR;
    return Outcome.failed(row, reason, "image " + row.image() + ": " + cause(e));
  }

  private static String cause(Throwable e) {
    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  /** Failed rows counted by reason code, sorted by code. */
  static Map<String, Integer> reasons(List<Outcome> outcomes) {
    Map<String, Integer> m = new TreeMap<>();
    for (Outcome o : outcomes) {
      if (o.failed()) {
        m.merge(o.reason(), 1, Integer::sum);
      }
    }
    return m;
  }

  /**
   * Prints the failed rows at the end of a run: the count by reason, then one line per row (the first
   * {@code limit}) with its CSV line, reason code and the message that says what happened.
   */
  static void reportFailures(PrintWriter err, String what, List<Outcome> outcomes, int limit, String where) {
    List<Outcome> failed = outcomes.stream().filter(Outcome::failed).toList();
    if (failed.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    reasons(outcomes).forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
    err.printf("%s: %d of %d rows failed (%s)%s:%n", what, failed.size(), outcomes.size(), sb, where);
    for (int i = 0; i < Math.min(limit, failed.size()); i++) {
      Outcome o = failed.get(i);
      err.printf("  line %d  %s  %s: %s%n", o.row().line(), o.row().image(), o.reason(), o.message());
    }
    if (failed.size() > limit) {
      err.printf("  ... and %d more%n", failed.size() - limit);
    }
    err.flush();
  }

  /**
   * The score as written: the float's shortest decimal, so the CSV reads {@code 0.49734583}, not the float widened
   * to {@code 0.4973458349704742}, and the metrics computed here equal those computed from the CSV.
   */
  static double exact(float f) {
    return Double.parseDouble(Float.toString(f));
  }

  private static String sha256(String s) {
    return io.semspai.bundle.Sha256.of(s);
  }

  @Override
  public void close() {
    pool.shutdownNow();
    try {
      engine.close();
    } finally {
      intake.close();
    }
  }
}
