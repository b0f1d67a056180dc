package io.semspai.trainer;

import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.HoldoutMetrics;
import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import io.semspai.avro.Thresholds;
import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.engine.InferenceEngine;
import io.semspai.fusion.HeadBundle;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.fusion.ThresholdProfile;
import io.semspai.fusion.ThresholdProfiles;
import io.semspai.image.ImageIntake;
import io.semspai.image.ImageSource;
import io.semspai.image.IntakeException;
import io.semspai.image.LoadedImage;
import io.semspai.release.ReleaseHistory;
import io.semspai.topics.TopicTail;
import io.semspai.topics.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer service: follows the feedback, features and verdicts topics, retrains the fusion head when enough new
 * labels arrived (or on a timer), gates the challenger against the champion on the fixed holdout, and publishes the
 * release: CANDIDATE, then PROMOTED or REJECTED. Detectors hot-swap on PROMOTED. All state is rebuilt from topics on
 * start (labels from feedback, features from the compacted features topic, the champion from model-releases), so
 * a restart loses nothing and recomputes nothing.
 */
public final class TrainerService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrainerService.class);
  private static final String STOPPED = "stopped: the trainer is closing; nothing was written to the store or "
      + "published, and the labels stay on the feedback topic for the next retrain";

  /**
   * @param retrainAfter new labels that trigger a retrain
   * @param retrainEvery a retrain also starts after this long if any new label arrived
   * @param minPerClass minimum training and holdout images per class before any retrain
   * @param augmentCopies derivative copies per training image ({@link Derivatives}, seeded by the image and the
   *     training seed); each holdout image then gets its one perturbed copy and the gate checks the perturbed AUC.
   *     0: no augmentation and no perturbed holdout.
   */
  public record Options(String bootstrap, String modelName, Path baseBundle, Path modelStore, int retrainAfter,
      Duration retrainEvery, int minPerClass, int maxPerLabeler, boolean userReportsNeedCorroboration,
      HeadTrainer.Options training, PromotionGate.Rules gate, int augmentCopies) {
    /** The derivative copies images get, or null without augmentation. */
    public Derivatives derivatives() {
      return augmentCopies > 0 ? Derivatives.of(augmentCopies, training.seed()) : null;
    }
  }

  /**
   * What one retrain decided.
   *
   * @param trainImages training images (each contributes its own example and its derivative copies')
   * @param trainCopies derivative copies among the training examples
   * @param perturbedImages derivative copies of holdout images the perturbed AUC was measured on
   * @param unavailable why labeled images went without features, or without their derivative copies (reason →
   *     images), e.g. {@code FILE_NOT_FOUND → 2}
   */
  public record Outcome(String version, boolean promoted, List<String> reasons, String table, int trainImages,
      int holdoutImages, int trainCopies, int perturbedImages, Map<String, Integer> unavailable) {
    /** A retrain that published nothing, and why; {@code sets} as far as they were assembled (null: not at all). */
    static Outcome nothing(String why, Sets sets) {
      return sets == null ? new Outcome(null, false, List.of(why), "", 0, 0, 0, 0, Map.of())
          : new Outcome(null, false, List.of(why), "", sets.trainImages(), sets.holdout.size(),
              sets.train.size() - sets.trainImages(), sets.perturbed.size(), sets.unavailable);
    }
  }

  private final Options o;
  private final Topics topics;
  private final ImageIntake intake;
  private final InferenceEngine engine;
  private final SemSpaiModel base;
  private final String backbone;
  private final LabelBook book;
  private final ImportanceWeights weights = new ImportanceWeights(0.05, 20);
  private final FeedbackLog feedback;
  private final FeatureStore features;
  private final TopicTail<io.semspai.avro.Verdict> verdicts;
  private final ReleaseLog releases;
  private final Derivatives derivatives;
  private final FeatureExtractor extractor;
  private final RetrainTrigger trigger;
  private final AtomicLong featuresComputed = new AtomicLong();
  private final AtomicLong retrains = new AtomicLong();
  private Thread loop;
  private volatile boolean running;
  /** Set by {@link #close}: a retrain in flight stops before its release, none starts. */
  private volatile boolean closing;
  private volatile HeadTrainer.Listener progress;

  public TrainerService(Options o, Topics topics, ImageIntake intake, InferenceEngine engine, SemSpaiModel base,
      String backboneKey) {
    this(o, topics, intake, engine, base, backboneKey, System::nanoTime);
  }

  /** @param nanoClock the time the retrain timer runs on ({@code System::nanoTime} but in tests) */
  public TrainerService(Options o, Topics topics, ImageIntake intake, InferenceEngine engine, SemSpaiModel base,
      String backboneKey, LongSupplier nanoClock) {
    this.o = o;
    this.derivatives = o.derivatives();
    this.extractor = new FeatureExtractor(engine);
    this.trigger = new RetrainTrigger(o.retrainAfter(), o.retrainEvery(), nanoClock);
    this.topics = topics;
    this.intake = intake;
    this.engine = engine;
    this.base = base;
    this.backbone = backboneKey;
    this.book = new LabelBook(o.maxPerLabeler(), o.userReportsNeedCorroboration());
    this.feedback = new FeedbackLog(o.bootstrap(), topics.feedback(), book, weights);
    this.features = new FeatureStore(o.bootstrap(), topics.features(), topics.derivativeFeatures(), backboneKey);
    this.verdicts = new TopicTail<>(o.bootstrap(), topics.verdicts());
    this.releases = new ReleaseLog(o.bootstrap(), topics.modelReleases());
  }

  /** Replays the topics, then retrains in the background whenever the trigger fires. */
  public synchronized void start() {
    removeLeftovers(o.modelStore(), STALE_AFTER);
    catchUp();
    trigger.reset(feedback.total());
    running = true;
    loop = new Thread(() -> {
      while (running) {
        try {
          tick();
          TimeUnit.MILLISECONDS.sleep(500);
        } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
          return; // closing
        } catch (RuntimeException | IOException e) {
          if (!running) {
            return;
          }
          log.error("retrain failed; will try again on the next trigger: {}", e.toString(), e);
          synchronized (this) {
            trigger.reset(feedback.total());
          }
          try {
            TimeUnit.SECONDS.sleep(5);
          } catch (InterruptedException ie) {
            return;
          }
        }
      }
    }, "trainer");
    loop.setDaemon(true);
    loop.start();
  }

  /**
   * One look at the topics; retrains when the trigger fires and returns what the retrain decided. The service's
   * loop calls it every half second. Kafka consumers are single-threaded, hence sync.
   */
  public synchronized Optional<Outcome> tick() throws IOException {
    if (closing) {
      return Optional.empty();
    }
    catchUp();
    RetrainTrigger.Reason why = trigger.due(feedback.total());
    if (why == null) {
      return Optional.empty();
    }
    log.info("retrain due ({})", why == RetrainTrigger.Reason.LABELS ? o.retrainAfter() + " new labels"
        : "timer " + o.retrainEvery() + " with new labels");
    return Optional.of(retrain());
  }

  private void catchUp() {
    feedback.catchUp();
    features.catchUp();
    verdicts.catchUp(r -> {
      if (r.value() != null && r.value().getLabel() != null) {
        weights.countVerdict(r.value().getLabel().name(), r.value().getSourcePlatform());
      }
    });
  }

  /**
   * One retrain from the labels known now; publishes CANDIDATE and then PROMOTED or REJECTED. When the service is
   * closed meanwhile it stops at the next image or epoch, or before its release if training is done, and returns
   * an outcome without a version: nothing was written to the store or published.
   */
  public synchronized Outcome retrain() throws IOException {
    if (closing) {
      return Outcome.nothing(STOPPED, null);
    }
    catchUp();
    trigger.reset(feedback.total());
    retrains.incrementAndGet();
    Sets sets = null;
    try {
      sets = assemble();
      String problem = enough(sets.train, "training") != null ? enough(sets.train, "training")
          : enough(sets.holdout, "holdout");
      if (problem != null) {
        log.info("no retrain yet: {} (images without features: {})", problem, sets.unavailable);
        return Outcome.nothing(problem, sets);
      }
      return trainAndRelease(sets);
    } catch (Stopped e) {
      log.info("retrain stopped: {}", STOPPED);
      return Outcome.nothing(STOPPED, sets);
    }
  }

  /** Thrown where a retrain notices {@link #closing}, before anything of its release exists. */
  private static final class Stopped extends RuntimeException {
    Stopped() {
      super(STOPPED, null, false, false);
    }
  }

  private void stopIfClosing() {
    if (closing) {
      throw new Stopped();
    }
  }

  /**
   * Told after every epoch of a retrain's training, on the retrain's thread (progress reporting; tests use it to act
   * while training is under way). Null: nobody.
   */
  public void onEpoch(HeadTrainer.Listener listener) {
    this.progress = listener;
  }

  private Outcome trainAndRelease(Sets sets) throws IOException {
    ReleaseHistory history = releases.history(o.modelName());
    Champion champion = champion(history);
    TrainingResult result = HeadTrainer.train(champion.state(), base.headConfig(), sets.train, o.training(),
        stats -> {
          HeadTrainer.Listener l = progress;
          if (l != null) {
            l.epoch(stats);
          }
          stopIfClosing();
        });
    HeadComparison cmp = HeadComparison.run(base.headConfig(), champion.state(), champion.balancedTHigh(), result,
        sets.holdout, sets.perturbed, o.gate());
    stopIfClosing();
    // From here on the release is written and both events are published whatever close() does: close() waits for
    // this method, so a CANDIDATE never goes out without its verdict (interrupting here could cut between the two).
    String version = unusedVersion(champion.version(), history);
    String holdoutVersion = Holdout.version(sets.holdout.stream().map(TrainingExample::key).toList());
    Path archive = writeRelease(version, champion.version(), result, cmp, holdoutVersion);
    String sha = sha256(archive);
    ModelRelease.Builder rel = ModelRelease.newBuilder().setModelName(o.modelName()).setVersion(version)
        .setArtifactUri(archive.toUri().toString()).setArtifactSha256(sha)
        .setMetrics(metrics(cmp, holdoutVersion)).setThresholds(thresholds(result.thresholds()))
        .setParentVersion(champion.version()).setCreatedAt(Instant.now());
    releases.publish(rel.setStatus(ReleaseStatus.CANDIDATE).setReasons(sets.summary()).build());
    ReleaseStatus status = cmp.promoted() ? ReleaseStatus.PROMOTED : ReleaseStatus.REJECTED;
    releases.publish(rel.setStatus(status).setReasons(cmp.decision().reasons()).setCreatedAt(Instant.now()).build());
    log.info("release {} {} (parent {}), holdout {}: challenger AUC {}, perturbed AUC {}", version, status,
        champion.version(), holdoutVersion, cmp.decision().challengerMetrics().get("auc"),
        cmp.decision().challengerMetrics().get("perturbed_auc"));
    return new Outcome(version, cmp.promoted(), cmp.decision().reasons(), cmp.table(), sets.trainImages(),
        sets.holdout.size(), sets.train.size() - sets.trainImages(), sets.perturbed.size(), sets.unavailable);
  }

  /**
   * The examples of one retrain.
   *
   * @param train training images, importance-weighted, each followed by its derivative copies
   * @param perturbed the holdout images' derivative copies (empty without augmentation)
   * @param unavailable why images went without features (dropped) or without derivative copies (trained clean)
   */
  private record Sets(List<TrainingExample> train, List<TrainingExample> holdout, List<TrainingExample> perturbed,
      Map<String, Integer> unavailable) {
    int trainImages() {
      return (int) train.stream().filter(x -> !x.isAugmented()).count();
    }

    /** The CANDIDATE's reasons: what it was trained and judged on, and what was left out and why. */
    List<String> summary() {
      List<String> out = new ArrayList<>();
      out.add("trained on " + trainImages() + " images + " + (train.size() - trainImages()) + " derivative copies, "
          + "holdout " + holdout.size() + " + " + perturbed.size() + " perturbed");
      unavailable.forEach((why, n) -> out.add(n + " image(s) " + why));
      return out;
    }
  }

  /** Every resolved label's features (and its derivative copies' with augmentation), split by the holdout rule. */
  private Sets assemble() {
    List<TrainingExample> train = new ArrayList<>();
    List<TrainingExample> holdout = new ArrayList<>();
    List<TrainingExample> perturbed = new ArrayList<>();
    Map<String, Integer> unavailable = new TreeMap<>();
    List<Planned> labels = book.resolveAll().labels().stream().map(this::plan).toList();
    Map<String, String> missing = ensureFeatures(labels);
    for (Planned l : labels) {
      LabelBook.Resolved r = l.label();
      boolean inHoldout = l.inHoldout();
      String why = missing.get(r.sha256());
      FeatureStore.Features f = features.get(r.sha256()).orElse(null);
      if (f == null) {
        unavailable.merge("without features, left out: " + why, 1, Integer::sum);
        continue;
      }
      if (why != null) {
        unavailable.merge("without derivative copies, used clean only: " + why, 1, Integer::sum);
      }
      int y = r.label() == FeedbackLabel.AI ? 1 : 0;
      TrainingExample ex = TrainingExample.of(r.sha256(), f.spectral(), f.semantic(), y);
      if (!inHoldout) {
        ex = ex.withImportance(weights.weight(r.label().name(), r.sourcePlatform()));
      }
      (inHoldout ? holdout : train).add(ex);
      for (Derivatives.Copy c : l.copies()) {
        FeatureStore.Features cf = features.get(r.sha256(), c.variant()).orElse(null);
        if (cf != null) {
          (inHoldout ? perturbed : train).add(ex.copy(c.variant(), cf.spectral(), cf.semantic()));
        }
      }
    }
    return new Sets(train, holdout, perturbed, unavailable);
  }

  /** A resolved label with its holdout membership and the derivative copies it trains or is judged on. */
  private record Planned(LabelBook.Resolved label, boolean inHoldout, List<Derivatives.Copy> copies) {}

  private Planned plan(LabelBook.Resolved r) {
    boolean inHoldout = Holdout.isHoldout(r.sha256(), r.strongestKind());
    return new Planned(r, inHoldout, derivatives == null ? List.of() : derivatives.of(r.sha256(), inHoldout));
  }

  /** Images whose features the engine computes at once: the engine batches across them while the next is fetched. */
  static final int IMAGES_IN_FLIGHT = 8;

  /** What one image still needs: its features' futures, or why it cannot get them. */
  private record Pending(String sha256, List<CompletableFuture<FeatureExtractor.Features>> futures, String why) {}

  /**
   * Computes and stores whatever the store lacks of the labeled images' features and their copies'. An image is
   * fetched through the intake from its feedback's {@code imageUri}, checked against its sha256 and run through the
   * engine with its copies (made by {@link Derivatives.Copy#apply}); up to {@link #IMAGES_IN_FLIGHT} images are in
   * the engine at once, so it batches across them while the next one is fetched. Features are stored as each image
   * completes; what the store holds is never recomputed, so a restart recomputes nothing.
   *
   * @return for each image that could not get everything it needs, why
   */
  private Map<String, String> ensureFeatures(List<Planned> labels) {
    Map<String, String> why = new java.util.HashMap<>();
    java.util.ArrayDeque<Pending> window = new java.util.ArrayDeque<>();
    for (Planned l : labels) {
      stopIfClosing(); // fetching and running images through the engine can take long
      Pending p = submit(l.label().sha256(), l.copies());
      if (p == null) {
        continue;
      }
      window.add(p);
      while (window.size() >= IMAGES_IN_FLIGHT) {
        finish(window.poll(), why);
      }
    }
    while (!window.isEmpty()) {
      finish(window.poll(), why);
    }
    return why;
  }

  /** Fetches an image and submits what the store lacks of it; null when nothing is missing. */
  private Pending submit(String sha256, List<Derivatives.Copy> copies) {
    boolean needClean = features.get(sha256).isEmpty();
    List<Derivatives.Copy> missing = copies.stream().filter(c -> features.get(sha256, c.variant()).isEmpty())
        .toList();
    if (!needClean && missing.isEmpty()) {
      return null;
    }
    Feedback f = feedback.where(sha256).orElse(null);
    if (f == null || f.getImageUri() == null) {
      log.warn("labeled image {} has {} missing and no feedback names its imageUri; it cannot be fetched", sha256,
          needClean ? "its features" : missing.size() + " derivative copies");
      return new Pending(sha256, List.of(), "NO_IMAGE_URI (no feedback names where to fetch it)");
    }
    LoadedImage img;
    try {
      img = intake.load(ImageSource.parse(f.getImageUri()));
    } catch (IntakeException e) {
      log.warn("cannot fetch labeled image {}: {} {}", sha256, e.reason(), e.getMessage());
      return new Pending(sha256, List.of(), e.reason().name());
    }
    if (!img.fetched().sha256().equals(sha256)) {
      log.warn("feedback for {} points at {} whose bytes hash to {}; not used", sha256, f.getImageUri(),
          img.fetched().sha256());
      return new Pending(sha256, List.of(), "SHA256_MISMATCH (the imageUri's bytes are another image)");
    }
    List<CompletableFuture<FeatureExtractor.Features>> todo = new ArrayList<>();
    try {
      if (needClean) {
        todo.add(extractor.submit(img.image(), sha256, null));
      }
      todo.addAll(extractor.submitCopies(img.image(), sha256, missing));
    } catch (RuntimeException e) {
      todo.add(CompletableFuture.failedFuture(e)); // reported with the image, after what was submitted completes
    }
    return new Pending(sha256, todo, null);
  }

  /** Waits for one image's features and stores them, or records why it has none. */
  private void finish(Pending p, Map<String, String> why) {
    if (p.why() != null) {
      why.put(p.sha256(), p.why());
      return;
    }
    for (CompletableFuture<FeatureExtractor.Features> fut : p.futures()) {
      try {
        FeatureExtractor.Features x = fut.get(30, TimeUnit.MINUTES);
        features.put(p.sha256(), x.variant(), new FeatureStore.Features(x.spectral(), x.semantic()), base.version(),
            base.inputPolicy().spec());
        featuresComputed.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new org.apache.kafka.common.errors.InterruptException(e);
      } catch (Exception e) {
        Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
            ? e.getCause() : e;
        log.warn("cannot compute features of {}: {}", p.sha256(), cause.toString());
        why.putIfAbsent(p.sha256(), "MODEL_FAILURE (" + cause.getClass().getSimpleName() + ")");
      }
    }
  }

  private String enough(List<TrainingExample> xs, String what) {
    long ai = xs.stream().filter(x -> x.label() == 1 && !x.isAugmented()).count();
    long real = xs.stream().filter(x -> x.label() == 0 && !x.isAugmented()).count();
    return ai < o.minPerClass() || real < o.minPerClass() ? String.format("%s set has %d AI and %d real images, "
        + "fewer than %d per class", what, ai, real, o.minPerClass()) : null;
  }

  private record Champion(String version, Map<String, float[]> state, double balancedTHigh) {}

  private Champion champion(ReleaseHistory history) throws IOException {
    var target = history.target();
    if (target.isEmpty()) {
      return new Champion(base.version(), base.headState(), tHigh(base.thresholds()));
    }
    ModelRelease r = target.get();
    Path dir = o.modelStore().resolve("unpacked").resolve(r.getVersion());
    ModelBundle b = Files.isDirectory(dir) ? ModelBundle.open(dir)
        : BundleArchive.unpack(Path.of(java.net.URI.create(r.getArtifactUri())), dir);
    HeadBundle hb = HeadBundle.open(b.dir());
    try (SemSpaiModel m = base.swapHead(hb)) {
      return new Champion(r.getVersion(), m.headState(), tHigh(m.thresholds()));
    }
  }

  /** The champion's balanced t_high, or NaN when its thresholds are uncalibrated placeholders. */
  private static double tHigh(ThresholdProfiles t) {
    ThresholdProfile p = t.profiles().get(ThresholdProfiles.BALANCED);
    return p == null || !t.calibrated() ? Double.NaN : p.tHigh();
  }

  private Path writeRelease(String version, String parent, TrainingResult result, HeadComparison cmp,
      String holdoutVersion) throws IOException {
    Files.createDirectories(o.modelStore());
    Path archive = o.modelStore().resolve(o.modelName() + "-" + version + ".zip");
    if (Files.exists(archive)) {
      throw new IOException("release archive " + archive + " already exists; a published release may point at it, "
          + "so it is never overwritten (is another trainer publishing to this store?)");
    }
    Path staging = Files.createTempDirectory(o.modelStore(), ".staging-").resolve(version);
    var extra = HeadRelease.manifestFields(result, cmp, o.modelName(), parent, holdoutVersion);
    HeadBundle.write(staging, o.modelName(), version, base.headConfig(), result.state(), result.thresholds(),
        base.backboneHashes(), new BundleManifest.Provenance("trainer-service retrain from " + parent, null, null,
            null), extra);
    BundleArchive.pack(staging, archive);
    deleteTree(staging.getParent());
    return archive;
  }

  private static HoldoutMetrics metrics(HeadComparison cmp, String holdoutVersion) {
    Map<String, Double> m = cmp.decision().challengerMetrics();
    return new HoldoutMetrics(m.get("auc"), m.get("ap"), m.get("balanced_accuracy"), m.get("ece"),
        m.get("perturbed_auc"), holdoutVersion, cmp.perturbed() == null ? null : cmp.perturbed().labels().length);
  }

  private static Map<String, Thresholds> thresholds(ThresholdProfiles t) {
    Map<String, Thresholds> out = new LinkedHashMap<>();
    t.profiles().forEach((name, p) -> out.put(name, new Thresholds(p.tLow(), p.tHigh())));
    return out;
  }

  /**
   * The next version after the champion's that no release event and no archive in the store has used: after a
   * REJECTED challenger the champion is unchanged, so its plain successor is taken already (and an archive written
   * just before a crash, never published, must not block every later retrain).
   */
  private String unusedVersion(String championVersion, ReleaseHistory history) {
    String v = nextVersion(championVersion);
    while (history.latest(v).isPresent() || Files.exists(o.modelStore().resolve(o.modelName() + "-" + v + ".zip"))) {
      v = nextVersion(v);
    }
    return v;
  }

  /** The parent's minor version plus one, e.g. 1.3.0 → 1.4.0; a pre-release base becomes 1.0.0-style. */
  static String nextVersion(String parent) {
    var m = java.util.regex.Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+).*").matcher(parent);
    if (!m.matches()) {
      return "1.0.0";
    }
    return m.group(1) + "." + (Integer.parseInt(m.group(2)) + 1) + ".0";
  }

  /** How old a staging folder or partial file must be before a start removes it (no release takes this long). */
  static final Duration STALE_AFTER = Duration.ofHours(1);

  /**
   * Removes what a killed trainer left half-written in the store: {@code .staging-*} folders and hidden
   * {@code .partial-} archive files and unpack folders, in the store and its {@code unpacked} folder. Only those older
   * than {@code staleAfter}, so a second trainer's release in progress is never touched. No release points at them.
   *
   * @return how many were removed
   */
  static int removeLeftovers(Path store, Duration staleAfter) {
    int removed = 0;
    long cutoff = System.currentTimeMillis() - staleAfter.toMillis();
    for (Path dir : List.of(store, store.resolve("unpacked"))) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (var entries = Files.list(dir)) {
        for (Path p : entries.toList()) {
          String n = p.getFileName().toString();
          boolean leftover = n.startsWith(".staging-") || (n.startsWith(".") && n.contains(".partial-"));
          if (leftover && Files.getLastModifiedTime(p).toMillis() < cutoff) {
            deleteTree(p);
            log.info("removed {} left half-written by an earlier trainer", p);
            removed++;
          }
        }
      } catch (IOException e) {
        log.warn("could not clean up leftovers in {}: {}", dir, e.toString());
      }
    }
    return removed;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static String sha256(Path f) throws IOException {
    return io.semspai.bundle.Sha256.of(f);
  }

  public LabelBook labels() {
    return book;
  }

  /** Features this service computed itself, images and derivative copies (not those read from the topic). */
  public long featuresComputed() {
    return featuresComputed.get();
  }

  /** Retrains attempted, including those that declined for too few images. */
  public long retrains() {
    return retrains.get();
  }

  /**
   * Stops the service. A retrain in flight stops at its next image or epoch and publishes nothing; one already
   * writing its release finishes it (both events), so the release topic never holds half a pair. Only then is the
   * loop interrupted, which is safe once no retrain runs.
   */
  @Override
  public void close() {
    closing = true;
    running = false;
    synchronized (this) {
      log.debug("trainer closing; no retrain in flight");
    }
    if (loop != null) {
      loop.interrupt();
      try {
        loop.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    feedback.close();
    features.close();
    verdicts.close();
    releases.close();
  }
}
