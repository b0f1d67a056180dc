package io.semspai.stream;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.semspai.avro.ModelRelease;
import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.ModelBundle;
import io.semspai.config.ConfigException;
import io.semspai.config.Settings;
import io.semspai.engine.BatchModel;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.ServingModels;
import io.semspai.nn.Placement;
import io.semspai.image.ImageIntake;
import io.semspai.image.IntakePolicy;
import io.semspai.ops.OpsServer;
import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detection service assembled from settings: registry, topics, intake, model, engine, scorer, Streams service,
 * release watcher and the ops endpoints. {@code ./semspai detect} and the demo start it the same way.
 */
public final class DetectorApp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DetectorApp.class);

  private final Settings settings;
  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final DetectorMetrics metrics = new DetectorMetrics(meters);
  private ImageIntake intake;
  private InferenceEngine engine;
  private PipelineScorer scorer;
  private DetectorService service;
  private ReleaseWatcher watcher;
  private OpsServer ops;
  /** What is serving now, for the scorer's labels and features. */
  private final AtomicReference<ServingModels.Serving> current = new AtomicReference<>();
  /** The full bundle whose backbones serve now (a head swap keeps it). */
  private final AtomicReference<Path> servingBundleDir = new AtomicReference<>();

  public DetectorApp(Settings settings) {
    this.settings = settings;
  }

  public void start() throws Exception {
    String bootstrap = settings.required("kafka.bootstrap.servers");
    SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.from(settings));
    Topics topics = Topics.from(settings, registry);
    intake = new ImageIntake(IntakePolicy.fromMap(settings.section(IntakePolicy.PREFIX)));

    Path work = Path.of(settings.string("detector.state-dir", ".semspai/detector"));
    Files.createDirectories(work);
    ModelBundle bundle = openBundle(Path.of(settings.required("model.bundle")), work.resolve("bundle"));
    Placement placement = Placement.fromSettings(settings);
    ServingModels.Serving serving = ServingModels.open(bundle, null, placement);
    BatchModel model = serving.model();
    current.set(serving);
    servingBundleDir.set(bundle.dir());
    InferenceEngine.Options eo;
    try {
      eo = InferenceEngine.Options.fromSettings(settings, model);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    engine = new InferenceEngine(model, eo, meters);
    metrics.modelVersion(model.version());
    String profileName = settings.string("detector.profile", "balanced");
    boolean features = settings.bool("detector.publish-features", false);
    scorer = new PipelineScorer(intake, engine, () -> {
      ServingModels.Serving s = current.get();
      return new PipelineScorer.ModelInfo() {
        @Override
        public io.semspai.fusion.ThresholdProfile profile() {
          return s.profile(profileName);
        }

        @Override
        public String backboneSha256() {
          return s.backboneSha256();
        }

        @Override
        public String spaiInputPolicy() {
          return s.inputPolicy();
        }
      };
    }, features, settings.integer("intake.threads", 8, 1, 256));

    Map<String, String> streamsOverrides = settings.withPrefix("streams");
    var so = new DetectorService.Options(bootstrap, settings.string("detector.application-id", "semspai-detector"),
        work.resolve("streams"), settings.integer("detector.max-in-flight", 32, 1, 100_000),
        settings.integer("detector.max-parked", 1000, 1, 10_000_000),
        settings.duration("detector.punctuate-interval", Duration.ofMillis(100)),
        settings.duration("detector.drain-timeout", Duration.ofSeconds(30)), features,
        settings.integer("detector.threads", 1, 1, 64), streamsOverrides);
    service = new DetectorService(so, topics, registry, scorer, metrics, engine::modelVersion);
    service.start();

    ModelStore store = new ModelStore(Path.of(settings.string("model.store", ".semspai/models")),
        work.resolve("releases"));
    watcher = new ReleaseWatcher(bootstrap, topics.modelReleases(), settings.string("model.name", "semspai"), store,
        new ReleaseWatcher.Swapper() {
          @Override
          public void swap(ModelRelease release, ModelBundle b) throws Exception {
            ServingModels.Serving next;
            if (b.manifest().other().containsKey(io.semspai.fusion.HeadBundle.KIND_FIELD)) {
              // A head-only release: keep the loaded backbones, swap just the fusion head (refused when the head
              // was trained on other backbones).
              io.semspai.fusion.SemSpaiModel swapped = current.get().model()
                  .swapHead(io.semspai.fusion.HeadBundle.open(b.dir()));
              next = ServingModels.serving(swapped, ModelBundle.open(servingBundleDir.get()));
            } else {
              next = ServingModels.open(b, null, placement);
              servingBundleDir.set(b.dir());
            }
            engine.swap(next.model());
            current.set(next);
          }

          @Override
          public String currentVersion() {
            return engine.modelVersion();
          }
        }, metrics);
    watcher.start();

    int port = settings.integer("http.port", 8080, 0, 65535);
    ops = new OpsServer(settings.string("http.host", "127.0.0.1"), port, meters,
        () -> service.state().hasCompletedShutdown() || service.state() == org.apache.kafka.streams.KafkaStreams
            .State.ERROR ? "kafka streams is " + service.state() : null,
        () -> service.running() ? null : "kafka streams is " + service.state());
    log.info("detector serving model {} on {}; metrics and health on http://{}:{}/", model.version(),
        topics.imageEvents().name(), settings.string("http.host", "127.0.0.1"), ops.port());
  }

  private static ModelBundle openBundle(Path p, Path unpackDir) throws Exception {
    if (Files.isDirectory(p)) {
      return ModelBundle.open(p);
    }
    if (Files.isRegularFile(p)) {
      return BundleArchive.unpack(p, unpackDir.resolve(p.getFileName().toString() + "-"
          + ModelStore.sha256(p).substring(0, 12)));
    }
    throw new ConfigException("model.bundle=" + p + " is neither a bundle folder nor a bundle archive");
  }

  public DetectorService service() {
    return service;
  }

  public InferenceEngine engine() {
    return engine;
  }

  public int opsPort() {
    return ops.port();
  }

  public boolean awaitReleasesReplayed(Duration timeout) throws InterruptedException {
    return watcher.awaitCaughtUp(timeout);
  }

  /** Drains in-flight work (up to the drain timeout), then stops everything in reverse order. */
  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
    if (service != null) {
      service.close();
    }
    if (scorer != null) {
      scorer.close();
    }
    if (engine != null) {
      engine.close();
    }
    if (intake != null) {
      intake.close();
    }
    if (ops != null) {
      ops.close();
    }
  }
}
