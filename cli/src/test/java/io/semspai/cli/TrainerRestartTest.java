package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.LabelerKind;
import io.semspai.config.Settings;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topics;
import io.semspai.trainer.TrainerApp;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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
    Map<String, String> cfg = new LinkedHashMap<>();
    cfg.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    cfg.put("schema.registry.url", TestRegistry.shared().url());
    cfg.put("topics.prefix", prefix);
    cfg.put("topics.partitions", "1");
    cfg.put("model.bundle", bundle.toString());
    cfg.put("model.store", dir.resolve("store").toString());
    cfg.put("trainer.retrain-after", "1000000");
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

  private static void publish(Topics topics, int from, int n) {
    var t = topics.feedback();
    try (var p = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()), t.keySerde().serializer(), t.valueSerde().serializer())) {
      for (int i = from; i < from + n; i++) {
        String sha = String.format("%064x", 1000 + i);
        p.send(new ProducerRecord<>(t.name(), sha, Feedback.newBuilder().setSha256(sha)
            .setLabel(i % 2 == 0 ? FeedbackLabel.AI : FeedbackLabel.REAL).setLabelerId("moderator-" + (i % 3))
            .setLabelerKind(LabelerKind.MODERATOR).setSourcePlatform("demo").setLabeledAt(Instant.now()).build()));
      }
      p.flush();
    }
  }
}
