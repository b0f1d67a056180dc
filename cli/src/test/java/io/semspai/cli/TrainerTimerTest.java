package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.avro.LabelerKind;
import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import io.semspai.bundle.ModelBundle;
import io.semspai.config.Settings;
import io.semspai.engine.ServingModels;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
  private static final Pattern TRAINED_ON = Pattern.compile("trained on (\\d+) images \\+ (\\d+) derivative copies, "
      + "holdout (\\d+) \\+ (\\d+) perturbed");
  @TempDir Path dir;

  @Test
  void theTimerRetrainsOnFewNewLabelsOnlyAndEveryRetrainPublishesOnePairOfReleases() throws Exception {
    String prefix = "timer" + UUID.randomUUID().toString().substring(0, 6) + ".";
    Path bundle = SemSpaiBundles.writeRandom(dir.resolve("base"), SemSpaiBundles.Preset.named("tiny"), 7, "semspai",
        "1.0.0", "native");
    ServingModels.Serving serving = ServingModels.open(ModelBundle.open(bundle));
    String backbone = serving.backboneSha256();
    int spectralDim = serving.model().headConfig().spectralDim();
    int semanticDim = serving.model().headConfig().semanticDim();
    serving.model().close();
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
      publish(feed, 1, 10, backbone, spectralDim, semanticDim);
      assertTrue(waitFor(() -> trainer.retrains() >= 1, T.multipliedBy(5)), "the timer fired on 10 labels, N is 1M");
      Thread.sleep(T.plusSeconds(1).toMillis()); // in case a label came just after that retrain started
      long declined = trainer.retrains();
      Thread.sleep(T.multipliedBy(2).plusMillis(500).toMillis());
      assertEquals(declined, trainer.retrains(), "no label arrived since the last retrain: the timer stays quiet");
      assertTrue(feed.releases().isEmpty(), "below the per-class minimum nothing is trained or published");

      // Images 11..40: 4 holdout images per class; the next tick of the timer trains and publishes.
      publish(feed, 11, 30, backbone, spectralDim, semanticDim);
      assertTrue(waitFor(() -> feed.releases().size() == 2, T.multipliedBy(10)), "one retrain's pair of releases");
      assertEquals(declined + 1, trainer.retrains());

      // Soak: one label every 400 ms for five periods, then a last period for the timer to see them all.
      int total = 40;
      long end = System.nanoTime() + T.multipliedBy(5).toNanos();
      while (System.nanoTime() < end) {
        total++;
        publish(feed, total, 1, backbone, spectralDim, semanticDim);
        Thread.sleep(400);
      }
      int labels = total;
      assertTrue(waitFor(() -> lastCandidateSaw(feed.releases()) == labels, T.multipliedBy(10)),
          "a retrain after the last label trained and judged on all " + labels + " images");
      Thread.sleep(T.multipliedBy(2).toMillis()); // nothing more arrives: no further retrain

      List<ModelRelease> rel = feed.releases();
      assertEquals(labels, trainer.labels().images(), "no label lost");
      assertEquals(0, rel.size() % 2, "every CANDIDATE has its verdict: " + statuses(rel));
      assertTrue(rel.size() >= 8, "the timer retrained several times while labels trickled in: " + statuses(rel));
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
        int saw = saw(candidate);
        assertTrue(saw >= seen, "each retrain sees at least the labels the one before saw: " + saw + " < " + seen);
        seen = saw;
      }
      assertEquals(labels, seen);
    }
  }

  /** Images {@code from .. from+n-1}: detector-like features first, then a trusted label (AI when odd). */
  private static void publish(LabelFeed feed, int from, int n, String backbone, int spectralDim, int semanticDim) {
    for (int i = from; i < from + n; i++) {
      feed.features(LabelFeed.sha(i), i % 2 == 1, backbone, spectralDim, semanticDim, i);
    }
    feed.flush();
    for (int i = from; i < from + n; i++) {
      feed.label(LabelFeed.sha(i), i % 2 == 1, LabelerKind.TRUSTED_DATASET, "dataset", null);
    }
    feed.flush();
  }

  /** Images a CANDIDATE was trained and judged on: training plus holdout, from its first reason. */
  private static int saw(ModelRelease candidate) {
    Matcher m = TRAINED_ON.matcher(candidate.getReasons().get(0));
    assertTrue(m.find(), candidate.getReasons().toString());
    return Integer.parseInt(m.group(1)) + Integer.parseInt(m.group(3));
  }

  private static int lastCandidateSaw(List<ModelRelease> rel) {
    for (int i = rel.size() - 1; i >= 0; i--) {
      if (rel.get(i).getStatus() == ReleaseStatus.CANDIDATE) {
        return saw(rel.get(i));
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
