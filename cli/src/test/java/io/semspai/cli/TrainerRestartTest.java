package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.semspai.avro.LabelerKind;
import io.semspai.config.Settings;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topics;
import io.semspai.trainer.TrainerApp;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer's labels live in the feedback topic, not in the trainer: a stopped trainer loses none of them. */
class TrainerRestartTest {
  private static final EmbeddedKafka kafka = EmbeddedKafka.shared();
  @TempDir Path dir;

  @Test
  void feedbackPublishedBeforeAndWhileTheTrainerWasDownIsAllThereAfterARestart() throws Exception {
    String prefix = "restart" + UUID.randomUUID().toString().substring(0, 6) + ".";
    Path bundle = SemSpaiBundles.writeRandom(dir.resolve("base"), SemSpaiBundles.Preset.named("tiny"), 5, "semspai",
        "1.0.0", "native");
    Map<String, String> cfg = LabelFeed.trainerSettings(kafka.bootstrapServers(), prefix, bundle,
        dir.resolve("store"));
    Topics topics = new Topics(prefix, TestRegistry.shared().client());

    try (TrainerApp first = new TrainerApp(Settings.of(cfg))) {
      first.start();
      publish(topics, 0, 20);
      // a retrain attempt while the feedback streams in (too few images per class: it declines, which is fine)
      first.start().retrain();
      assertEquals(20, first.service().labels().images());
    }
    publish(topics, 20, 10); // while no trainer runs
    try (TrainerApp second = new TrainerApp(Settings.of(cfg))) {
      second.start();
      assertEquals(30, second.service().labels().images(), "every label, old and new, rebuilt from the topic");
      assertEquals(30, second.service().labels().resolveAll().labels().size());
    }
  }

  private static void publish(Topics topics, int from, int n) throws Exception {
    try (LabelFeed feed = new LabelFeed(kafka.bootstrapServers(), topics)) {
      for (int i = from; i < from + n; i++) {
        feed.label(LabelFeed.sha(1000 + i), i % 2 == 0, LabelerKind.MODERATOR, "moderator-" + (i % 3), null);
      }
      feed.flush();
    }
  }
}
