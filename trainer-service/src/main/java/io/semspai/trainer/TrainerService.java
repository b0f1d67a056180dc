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
import io.semspai.engine.Detection;
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
import java.util.concurrent.TimeUnit;
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

  /**
   * @param retrainAfter new labels that trigger a retrain
   * @param retrainEvery a retrain also starts after this long if any new label arrived
   * @param minPerClass minimum training and holdout images per class before any retrain
   */
  public record Options(String bootstrap, String modelName, Path baseBundle, Path modelStore, int retrainAfter,
      Duration retrainEvery, int minPerClass, int maxPerLabeler, boolean userReportsNeedCorroboration,
      HeadTrainer.Options training, PromotionGate.Rules gate) {}

  /** What one retrain decided. */
  public record Outcome(String version, boolean promoted, List<String> reasons, String table, int trainImages,
      int holdoutImages) {}

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
  private Thread loop;
  private volatile boolean running;
  private long labelsAtLastRetrain;
  private long lastRetrainNanos = System.nanoTime();

  public TrainerService(Options o, Topics topics, ImageIntake intake, InferenceEngine engine, SemSpaiModel base,
      String backboneKey) {
    this.o = o;
    this.topics = topics;
    this.intake = intake;
    this.engine = engine;
    this.base = base;
    this.backbone = backboneKey;
    this.book = new LabelBook(o.maxPerLabeler(), o.userReportsNeedCorroboration());
    this.feedback = new FeedbackLog(o.bootstrap(), topics.feedback(), book, weights);
    this.features = new FeatureStore(o.bootstrap(), topics.features(), backboneKey);
    this.verdicts = new TopicTail<>(o.bootstrap(), topics.verdicts());
    this.releases = new ReleaseLog(o.bootstrap(), topics.modelReleases());
  }

  /** Replays the topics, then retrains in the background whenever the trigger fires. */
  public synchronized void start() {
    catchUp();
    labelsAtLastRetrain = feedback.total();
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
            labelsAtLastRetrain = feedback.total();
            lastRetrainNanos = System.nanoTime();
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

  /** One look at the topics; retrains when the trigger fires. Kafka consumers are single-threaded, hence sync. */
  private synchronized void tick() throws IOException {
    catchUp();
    long fresh = feedback.total() - labelsAtLastRetrain;
    boolean timer = System.nanoTime() - lastRetrainNanos > o.retrainEvery().toNanos() && fresh > 0;
    if (fresh >= o.retrainAfter() || timer) {
      retrain();
    }
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

  /** One retrain from the labels known now; publishes CANDIDATE and then PROMOTED or REJECTED. */
  public synchronized Outcome retrain() throws IOException {
    catchUp();
    labelsAtLastRetrain = feedback.total();
    lastRetrainNanos = System.nanoTime();
    List<TrainingExample> train = new ArrayList<>();
    List<TrainingExample> holdout = new ArrayList<>();
    List<String> holdoutShas = new ArrayList<>();
    int missing = 0;
    for (LabelBook.Resolved r : book.resolveAll().labels()) {
      FeatureStore.Features f = features.get(r.sha256()).orElseGet(() -> compute(r.sha256()));
      if (f == null) {
        missing++;
        continue;
      }
      int y = r.label() == FeedbackLabel.AI ? 1 : 0;
      TrainingExample ex = TrainingExample.of(r.sha256(), f.spectral(), f.semantic(), y);
      if (Holdout.isHoldout(r.sha256(), r.strongestKind())) {
        holdout.add(ex);
        holdoutShas.add(r.sha256());
      } else {
        train.add(ex.withImportance(weights.weight(r.label().name(), r.sourcePlatform())));
      }
    }
    String problem = enough(train, "training") != null ? enough(train, "training") : enough(holdout, "holdout");
    if (problem != null) {
      log.info("no retrain yet: {} ({} images without features)", problem, missing);
      return new Outcome(null, false, List.of(problem), "", train.size(), holdout.size());
    }
    ReleaseHistory history = releases.history(o.modelName());
    Champion champion = champion(history);
    TrainingResult result = HeadTrainer.train(champion.state(), base.headConfig(), train, o.training());
    HeadComparison cmp = HeadComparison.run(base.headConfig(), champion.state(), champion.balancedTHigh(), result,
        holdout, null, o.gate());
    String version = nextVersion(champion.version());
    String holdoutVersion = Holdout.version(holdoutShas);
    Path archive = writeRelease(version, champion.version(), result, cmp, holdoutVersion);
    String sha = sha256(archive);
    ModelRelease.Builder rel = ModelRelease.newBuilder().setModelName(o.modelName()).setVersion(version)
        .setArtifactUri(archive.toUri().toString()).setArtifactSha256(sha)
        .setMetrics(metrics(cmp, holdoutVersion)).setThresholds(thresholds(result.thresholds()))
        .setParentVersion(champion.version()).setCreatedAt(Instant.now());
    releases.publish(rel.setStatus(ReleaseStatus.CANDIDATE).setReasons(List.of("trained on " + train.size()
        + " images, holdout " + holdout.size())).build());
    ReleaseStatus status = cmp.promoted() ? ReleaseStatus.PROMOTED : ReleaseStatus.REJECTED;
    releases.publish(rel.setStatus(status).setReasons(cmp.decision().reasons()).setCreatedAt(Instant.now()).build());
    log.info("release {} {} (parent {}), holdout {}: challenger AUC {}", version, status, champion.version(),
        holdoutVersion, cmp.decision().challengerMetrics().get("auc"));
    return new Outcome(version, cmp.promoted(), cmp.decision().reasons(), cmp.table(), train.size(), holdout.size());
  }

  private String enough(List<TrainingExample> xs, String what) {
    long ai = xs.stream().filter(x -> x.label() == 1).count();
    long real = xs.size() - ai;
    return ai < o.minPerClass() || real < o.minPerClass() ? String.format("%s set has %d AI and %d real images, "
        + "fewer than %d per class", what, ai, real, o.minPerClass()) : null;
  }

  /** The features of an image nobody published features for: fetched through the intake, run by the engine. */
  private FeatureStore.Features compute(String sha256) {
    Feedback f = feedback.where(sha256).orElse(null);
    if (f == null || f.getImageUri() == null) {
      return null;
    }
    try {
      LoadedImage img = intake.load(ImageSource.parse(f.getImageUri()));
      if (!img.fetched().sha256().equals(sha256)) {
        log.warn("feedback for {} points at {} whose bytes hash to {}; skipped", sha256, f.getImageUri(),
            img.fetched().sha256());
        return null;
      }
      Detection d = engine.submit(img.image(), sha256, 0).get(30, TimeUnit.MINUTES);
      FeatureStore.Features fs = new FeatureStore.Features(d.output().spectralFeature(),
          d.output().semanticFeature());
      features.put(sha256, fs, d.modelVersion(), base.inputPolicy().spec());
      return fs;
    } catch (IntakeException e) {
      log.warn("cannot fetch labeled image {}: {} {}", sha256, e.reason(), e.getMessage());
      return null;
    } catch (Exception e) {
      log.warn("cannot compute features of {}: {}", sha256, e.toString());
      return null;
    }
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
    Map<String, com.fasterxml.jackson.databind.JsonNode> extra = new LinkedHashMap<>();
    var json = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
    extra.put("parent_version", json.textNode(parent));
    extra.put("holdout_version", json.textNode(holdoutVersion));
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
        m.get("perturbed_auc"), holdoutVersion);
  }

  private static Map<String, Thresholds> thresholds(ThresholdProfiles t) {
    Map<String, Thresholds> out = new LinkedHashMap<>();
    t.profiles().forEach((name, p) -> out.put(name, new Thresholds(p.tLow(), p.tHigh())));
    return out;
  }

  /** The parent's minor version plus one, e.g. 1.3.0 → 1.4.0; a pre-release base becomes 1.0.0-style. */
  static String nextVersion(String parent) {
    var m = java.util.regex.Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+).*").matcher(parent);
    if (!m.matches()) {
      return "1.0.0";
    }
    return m.group(1) + "." + (Integer.parseInt(m.group(2)) + 1) + ".0";
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

  @Override
  public void close() {
    running = false;
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
