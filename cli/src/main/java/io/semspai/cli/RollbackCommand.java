package io.semspai.cli;

import io.semspai.avro.ModelRelease;
import io.semspai.config.Settings;
import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.topics.Topics;
import io.semspai.trainer.ReleaseLog;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./semspai model rollback --to VERSION}: ROLLED_BACK for the serving release, then PROMOTED for VERSION. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = "Roll the serving model back to an earlier PROMOTED version (detectors follow at once).")
public final class RollbackCommand implements Callable<Integer> {
  @Option(names = "--to", required = true, description = "The version to serve again.")
  String version;

  @Option(names = "--config", required = true,
      description = "Properties with kafka.bootstrap.servers, schema.registry.url, topics.prefix, model.name.")
  Path config;

  @Option(names = "--reason", description = "Why, recorded in the release events.")
  String reason;

  @Override
  public Integer call() {
    Settings s = Settings.load(config, System.getenv());
    Topics topics = Topics.from(s, new SchemaRegistryClient(RegistryConfig.from(s)));
    try (ReleaseLog log = new ReleaseLog(s.required("kafka.bootstrap.servers"), topics.modelReleases())) {
      ModelRelease r = log.rollback(s.string("model.name", "semspai"), version, reason);
      System.out.println("rolled back: " + r.getModelName() + " " + r.getVersion() + " is PROMOTED again ("
          + r.getArtifactUri() + ")");
      return 0;
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }
}
