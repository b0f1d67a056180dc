package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.avro.LabelerKind;
import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import io.semspai.config.Settings;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topics;
import io.semspai.trainer.TrainerApp;
import io.semspai.trainer.TrainerService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's labels live in the feedback topic, not in the trainer: a stopped trainer loses none of them, even one
 * stopped in the middle of training, and a stop never leaves half a release on the topic or in the store.
 */
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

  /**
   * Labels 1..40 give a first release pair (1.1.0). A second trainer, whose epoch budget cannot run out within the
   * test, is closed while a retrain on labels 1..50 is training and labels 51..60 arrive: the close returns at once,
   * the retrain publishes and writes nothing. Labels 61..70 arrive while no trainer runs. A restarted trainer sees all
   * 70, and its retrain publishes exactly one pair, trained and judged on all 70, as the next unused version.
   */
  @Test
  void aTrainerClosedMidTrainingPublishesNoHalfReleaseAndItsRestartTrainsOnEveryLabel() throws Exception {
    String prefix = "midtrain" + UUID.randomUUID().toString().substring(0, 6) + ".";
    Path bundle = SemSpaiBundles.writeRandom(dir.resolve("base"), SemSpaiBundles.Preset.named("tiny"), 11,
        "semspai", "1.0.0", "native");
    LabelFeed.Backbone backbone = LabelFeed.Backbone.of(bundle);
    Path store = dir.resolve("store");
    Map<String, String> cfg = LabelFeed.trainerSettings(kafka.bootstrapServers(), prefix, bundle, store);
    cfg.put("trainer.min-per-class", "3");
    cfg.put("trainer.max-epochs", "30");
    cfg.put("trainer.patience", "5");
    // The same topics, store and model; only training never ends by itself, so the close surely lands mid-training.
    Map<String, String> endless = new LinkedHashMap<>(cfg);
    endless.put("trainer.max-epochs", "100000");
    endless.put("trainer.patience", "100000");
    Topics topics = new Topics(prefix, TestRegistry.shared().client());

    try (LabelFeed feed = new LabelFeed(kafka.bootstrapServers(), topics)) {
      feed.trusted(1, 40, backbone);
      try (TrainerApp first = new TrainerApp(Settings.of(cfg))) {
        assertEquals("1.1.0", first.start().retrain().version());
      }
      List<ModelRelease> before = feed.releases();
      assertEquals(2, before.size());

      feed.trusted(41, 10, backbone);
      TrainerApp second = new TrainerApp(Settings.of(endless));
      FutureTask<TrainerService.Outcome> retrain;
      try {
        TrainerService service = second.start();
        CountDownLatch underWay = new CountDownLatch(1);
        service.onEpoch(stats -> {
          if (stats.epoch() >= 2) {
            underWay.countDown();
          }
        });
        retrain = new FutureTask<>(service::retrain);
        new Thread(retrain, "mid-training-retrain").start();
        assertTrue(underWay.await(60, TimeUnit.SECONDS), "the retrain reached its second epoch");
        feed.trusted(51, 10, backbone); // while it trains
        assertTrue(!retrain.isDone(), "still training when the trainer is closed");
      } finally {
        long t0 = System.nanoTime();
        second.close();
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "closing waits for an epoch, no more");
      }
      TrainerService.Outcome stopped = retrain.get(10, TimeUnit.SECONDS);
      assertNull(stopped.version(), "a stopped retrain has no version");
      assertTrue(stopped.reasons().get(0).startsWith("stopped: the trainer is closing"), stopped.reasons().toString());
      assertEquals(50, stopped.trainImages() + stopped.holdoutImages(), "it had assembled labels 1..50");
      assertEquals(before, feed.releases(), "no CANDIDATE (or verdict) from the stopped retrain");
      assertEquals(List.of("semspai-1.1.0.zip"), archives(store), "no archive, staging or partial file left");

      feed.trusted(61, 10, backbone); // while no trainer runs
      try (TrainerApp third = new TrainerApp(Settings.of(cfg))) {
        TrainerService service = third.start();
        assertEquals(70, service.labels().images(), "labels from before, during and after the stopped retrain");
        TrainerService.Outcome o = service.retrain();
        assertNotNull(o.version(), o.reasons().toString());
        assertEquals(70, o.trainImages() + o.holdoutImages());
      }
      List<ModelRelease> rel = feed.releases();
      assertEquals(4, rel.size(), "one more pair: " + rel.stream().map(r -> r.getVersion() + " " + r.getStatus())
          .toList());
      ModelRelease candidate = rel.get(2);
      ModelRelease verdict = rel.get(3);
      assertEquals(ReleaseStatus.CANDIDATE, candidate.getStatus());
      assertTrue(verdict.getStatus() == ReleaseStatus.PROMOTED || verdict.getStatus() == ReleaseStatus.REJECTED,
          verdict.getStatus().toString());
      assertEquals(candidate.getVersion(), verdict.getVersion());
      assertEquals(70, LabelFeed.saw(candidate), "trained and judged on the labels sent during the stopped run too");
      // 1.1.0 is taken whether it was PROMOTED (the parent) or REJECTED (skipped as used): the next unused is 1.2.0.
      assertEquals("1.2.0", candidate.getVersion());
      assertEquals(List.of("semspai-1.1.0.zip", "semspai-1.2.0.zip"), archives(store));
    }
  }

  /**
   * The release archives in the store, sorted; fails on any staging directory or partial archive left anywhere in it
   * (the champion's {@code unpacked/} copy is the one other thing expected there).
   */
  private static List<String> archives(Path store) throws Exception {
    try (Stream<Path> s = Files.walk(store)) {
      List<String> names = s.map(p -> store.relativize(p).toString()).toList();
      assertTrue(names.stream().noneMatch(n -> n.contains(".staging-") || n.contains(".partial-")), names.toString());
      return names.stream().filter(n -> n.endsWith(".zip")).sorted().toList();
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
