package io.semspai.trainer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.ModelBundle;
import io.semspai.config.ConfigException;
import io.semspai.config.Settings;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.ServingModels;
import io.semspai.nn.Placement;
import io.semspai.image.ImageIntake;
import io.semspai.image.IntakePolicy;
import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.topics.TopicSetup;
import io.semspai.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/** The trainer service assembled from settings; {@code ./semspai trainer} and the demo start it the same way. */
public final class TrainerApp implements AutoCloseable {
  private final Settings settings;
  private ImageIntake intake;
  private InferenceEngine engine;
  private TrainerService service;

  public TrainerApp(Settings settings) {
    this.settings = settings;
  }

  /** Starts the service (once; a second call returns the running one). */
  public synchronized TrainerService start() throws Exception {
    if (service != null) {
      return service;
    }
    String bootstrap = settings.required("kafka.bootstrap.servers");
    SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.from(settings));
    Topics topics = Topics.from(settings, registry);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      TopicSetup.createMissing(admin, topics.all());
    }
    TopicSetup.registerSchemas(registry, topics.all());
    Path bundlePath = Path.of(settings.required("model.bundle"));
    Path store = Path.of(settings.string("model.store", ".semspai/models"));
    ModelBundle bundle = Files.isDirectory(bundlePath) ? ModelBundle.open(bundlePath)
        : BundleArchive.unpack(bundlePath, store.resolve("base-" + bundlePath.getFileName()));
    ServingModels.Serving serving = ServingModels.open(bundle, null, Placement.fromSettings(settings));
    if (serving.model().backboneHashes() == null) {
      throw new ConfigException("model.bundle " + bundlePath + " has no semantic branch; the trainer retrains the "
          + "fusion head, so it needs a fusion bundle");
    }
    intake = new ImageIntake(IntakePolicy.fromMap(settings.section(IntakePolicy.PREFIX)));
    engine = new InferenceEngine(serving.model(), InferenceEngine.Options.fromSettings(settings, serving.model()),
        new SimpleMeterRegistry());
    HeadTrainer.Options training = HeadTrainer.Options.defaults()
        .withSeed(settings.integer("trainer.seed", 17, 0, Integer.MAX_VALUE))
        .withEpochs(settings.integer("trainer.max-epochs", 200, 1, 100_000), settings.integer("trainer.patience",
            20, 1, 100_000));
    PromotionGate.Rules d = PromotionGate.Rules.defaults();
    PromotionGate.Rules gate = new PromotionGate.Rules(settings.decimal("gate.min-auc", d.minAuc(), 0, 1),
        settings.decimal("gate.min-ap", d.minAp(), 0, 1), settings.decimal("gate.rank-margin", d.rankMargin(), 0, 1),
        settings.decimal("gate.fpr-margin", d.fprMargin(), 0, 1), settings.decimal("gate.ece-margin", d.eceMargin(),
            0, 1), settings.decimal("gate.perturbed-auc-margin", d.perturbedAucMargin(), 0, 1), d.resamples(),
        d.seed());
    var o = new TrainerService.Options(bootstrap, settings.string("model.name", "semspai"), bundle.dir(), store,
        settings.integer("trainer.retrain-after", 100, 1, 10_000_000),
        settings.duration("trainer.retrain-every", Duration.ofHours(1)),
        settings.integer("trainer.min-per-class", 20, 1, 10_000_000),
        settings.integer("trainer.max-per-labeler", 100_000, 1, Integer.MAX_VALUE),
        settings.bool("trainer.user-reports-need-corroboration", true), training, gate,
        settings.bool("trainer.augment", false) ? settings.integer("trainer.augment.k", Derivatives.DEFAULT_K, 1, 64)
            : 0);
    service = new TrainerService(o, topics, intake, engine, serving.model(), serving.backboneSha256());
    service.start();
    return service;
  }

  public TrainerService service() {
    return service;
  }

  @Override
  public void close() {
    if (service != null) {
      service.close();
    }
    if (engine != null) {
      engine.close();
    }
    if (intake != null) {
      intake.close();
    }
  }
}
