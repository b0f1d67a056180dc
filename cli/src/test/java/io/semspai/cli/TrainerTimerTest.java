package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import io.semspai.config.Settings;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topics;
import io.semspai.trainer.TrainerApp;
import io.semspai.trainer.TrainerService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "every T" trigger of the running service, on the in-JVM broker and the real registry, with T = 2 s and N
 * out of reach: it retrains with few new labels, not when none arrived, declines below the per-class minimum, and,
 * with labels trickling in over several periods, publishes one CANDIDATE then one verdict per retrain, never
 * interleaved, having seen every label.
 */
class TrainerTimerTest {
  private static final EmbeddedKafka kafka = EmbeddedKafka.shared();
  private static final Duration T = Duration.ofSeconds(2);
  @TempDir Path dir;

  @Test
  void theTimerRetrainsOnFewNewLabelsOnlyAndEveryRetrainPublishesOnePairOfReleases() throws Exception {
    String prefix = "timer" + UUID.randomUUID().toString().substring(0, 6) + ".";
    Path bundle = SemSpaiBundles.writeRandom(dir.resolve("base"), SemSpaiBundles.Preset.named("tiny"), 7, "semspai",
        "1.0.0", "native");
    LabelFeed.Backbone backbone = LabelFeed.Backbone.of(bundle);
    Map<String, String> cfg = LabelFeed.trainerSettings(kafka.bootstrapServers(), prefix, bundle,
        dir.resolve("store"));
    cfg.put("trainer.retrain-every", "2s");
    cfg.put("trainer.min-per-class", "3");
    cfg.put("trainer.max-epochs", "30");
    cfg.put("trainer.patience", "5");
    Topics topics = new Topics(prefix, TestRegistry.shared().client());

    try (TrainerApp app = new TrainerApp(Settings.of(cfg)); LabelFeed feed = new LabelFeed(kafka.bootstrapServers(),
        topics)) {
      TrainerService trainer = app.start();
      // Images 1..10: the holdout (multiples of 5) has one image per class, below the minimum of 3.
      feed.trusted(1, 10, backbone);
      assertTrue(waitFor(() -> trainer.retrains() >= 1, T.multipliedBy(5)), "the timer fired on 10 labels, N is 1M");
      Thread.sleep(T.plusSeconds(1).toMillis()); // in case a label came just after that retrain started
      long declined = trainer.retrains();
      Thread.sleep(T.multipliedBy(2).plusMillis(500).toMillis());
      assertEquals(declined, trainer.retrains(), "no label arrived since the last retrain: the timer stays quiet");
      assertTrue(feed.releases().isEmpty(), "below the per-class minimum nothing is trained or published");

      // Images 11..40: 4 holdout images per class; the next tick of the timer trains and publishes.
      feed.trusted(11, 30, backbone);
      assertTrue(waitFor(() -> feed.releases().size() == 2, T.multipliedBy(10)), "one retrain's pair of releases");
      assertEquals(declined + 1, trainer.retrains());

      // Soak: one label every 400 ms for five periods, then a last period for the timer to see them all.
      int total = 40;
      long end = System.nanoTime() + T.multipliedBy(5).toNanos();
      while (System.nanoTime() < end) {
        total++;
        feed.trusted(total, 1, backbone);
        Thread.sleep(400);
      }
      int labels = total;
      assertTrue(waitFor(() -> lastCandidateSaw(feed.releases()) == labels, T.multipliedBy(10)),
          "a retrain after the last label trained and judged on all " + labels + " images");
      Thread.sleep(T.multipliedBy(2).toMillis()); // nothing more arrives: no further retrain

      List<ModelRelease> rel = feed.releases();
      assertEquals(labels, trainer.labels().images(), "no label lost");
      assertEquals(0, rel.size() % 2, "every CANDIDATE has its verdict: " + statuses(rel));
      // The first retrain plus at least two more from the timer: a retrain on a loaded CI machine can take longer
      // than T, so the count in five periods varies; two is what any speed gives.
      System.out.println("timer soak: " + rel.size() / 2 + " retrains published " + statuses(rel));
      assertTrue(rel.size() >= 6, "the timer retrained several times while labels trickled in: " + statuses(rel));
      assertEquals(trainer.retrains() - declined, rel.size() / 2, "one pair of releases per retrain that trained");
      Set<String> versions = new HashSet<>();
      int seen = 0;
      for (int i = 0; i < rel.size(); i += 2) {
        ModelRelease candidate = rel.get(i);
        ModelRelease verdict = rel.get(i + 1);
        assertEquals(ReleaseStatus.CANDIDATE, candidate.getStatus(), "release " + i + ": " + statuses(rel));
        assertTrue(verdict.getStatus() == ReleaseStatus.PROMOTED || verdict.getStatus() == ReleaseStatus.REJECTED,
            statuses(rel));
        assertEquals(candidate.getVersion(), verdict.getVersion(), "a verdict follows its own candidate");
        assertTrue(versions.add(candidate.getVersion()), "each retrain its own version: " + candidate.getVersion());
        if (i > 0) {
          assertFalse(candidate.getCreatedAt().isBefore(rel.get(i - 1).getCreatedAt()), "retrains never overlap");
        }
        int saw = LabelFeed.saw(candidate);
        assertTrue(saw >= seen, "each retrain sees at least the labels the one before saw: " + saw + " < " + seen);
        seen = saw;
      }
      assertEquals(labels, seen);
    }
  }

  private static int lastCandidateSaw(List<ModelRelease> rel) {
    for (int i = rel.size() - 1; i >= 0; i--) {
      if (rel.get(i).getStatus() == ReleaseStatus.CANDIDATE) {
        return LabelFeed.saw(rel.get(i));
      }
    }
    return -1;
  }

  private static String statuses(List<ModelRelease> rel) {
    return rel.stream().map(r -> r.getVersion() + " " + r.getStatus()).toList().toString();
  }

  private static boolean waitFor(BooleanSupplier ok, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ok.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(100);
    }
    return true;
  }
}
