package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.avro.LabelerKind;
import io.semspai.avro.ModelRelease;
import io.semspai.avro.ReleaseStatus;
import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.Sha256;
import io.semspai.config.Settings;
import io.semspai.demo.DemoImages;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.perturb.Pixels;
import io.semspai.testing.EmbeddedKafka;
import io.semspai.testing.TestRegistry;
import io.semspai.topics.Topics;
import io.semspai.trainer.Holdout;
import io.semspai.trainer.TrainerApp;
import io.semspai.trainer.TrainerService;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service with {@code trainer.augment=true} on the in-JVM broker and the real registry. The images' own features
 * are already on the features topic (a first trainer without augmentation computed them, as a detector would have),
 * so the augmenting trainer fetches each image through the intake only to make its derivative copies: k per
 * training image, one per holdout image. The releases carry the perturbed-holdout AUC and the augmented training
 * counts; an image that cannot be fetched trains clean and is reported; a restart computes nothing again.
 */
class TrainerAugmentTest {
  private static final EmbeddedKafka kafka = EmbeddedKafka.shared();
  private static final int K = 2;
  @TempDir Path dir;

  @Test
  void augmentedRetrainsJudgeOnThePerturbedHoldoutAndARestartRecomputesNothing() throws Exception {
    String prefix = "augment" + UUID.randomUUID().toString().substring(0, 6) + ".";
    Path bundle = SemSpaiBundles.writeRandom(dir.resolve("base"), SemSpaiBundles.Preset.named("tiny"), 9, "semspai",
        "1.0.0", "native");
    Path images = dir.resolve("images");
    Files.createDirectories(images);
    Map<String, String> cfg = LabelFeed.trainerSettings(kafka.bootstrapServers(), prefix, bundle,
        dir.resolve("store"));
    cfg.put("intake.file-roots", images.toString());
    cfg.put("trainer.min-per-class", "2");
    cfg.put("trainer.max-epochs", "30");
    cfg.put("trainer.patience", "5");
    Topics topics = new Topics(prefix, TestRegistry.shared().client());

    // Demo images of both classes until the holdout bucket has two of each (the sha256s decide, not the test).
    Map<String, Path> files = new LinkedHashMap<>();
    Map<String, Boolean> ai = new LinkedHashMap<>();
    int[] holdoutPerClass = new int[2];
    for (int i = 0; i < 80 && (files.size() < 24 || Math.min(holdoutPerClass[0], holdoutPerClass[1]) < 2); i++) {
      boolean isAi = i % 2 == 1;
      Path f = images.resolve("img" + i + ".png");
      ImageIO.write(Pixels.toBufferedImage(DemoImages.generate(isAi ? DemoImages.Kind.UPSAMPLED
          : DemoImages.Kind.CAMERA, 96, 96, 500 + i)), "png", f.toFile());
      String sha = Sha256.of(f);
      files.put(sha, f);
      ai.put(sha, isAi);
      if (Holdout.inBucket(sha)) {
        holdoutPerClass[isAi ? 1 : 0]++;
      }
    }
    int holdout = holdoutPerClass[0] + holdoutPerClass[1];
    int train = files.size() - holdout;
    assertTrue(holdoutPerClass[0] >= 2 && holdoutPerClass[1] >= 2, "holdout per class " + holdoutPerClass[0] + "/"
        + holdoutPerClass[1]);
    try (LabelFeed feed = new LabelFeed(kafka.bootstrapServers(), topics)) {
      files.forEach((sha, f) -> feed.label(sha, ai.get(sha), LabelerKind.TRUSTED_DATASET, "dataset",
          f.toUri().toString()));
      feed.flush();

      // 1. Without augmentation: only the images' own features, computed once and stored on the features topic.
      try (TrainerApp app = new TrainerApp(Settings.of(cfg))) {
        TrainerService.Outcome o = app.start().retrain();
        assertNotNull(o.version(), o.reasons().toString());
        assertEquals(files.size(), app.service().featuresComputed());
        assertEquals(0, o.trainCopies());
        assertEquals(0, o.perturbedImages());
      }
      List<ModelRelease> rel = feed.releases();
      assertEquals(2, rel.size());
      assertNull(rel.get(1).getMetrics().getPerturbedAuc(), "no perturbed holdout without augmentation");
      assertNull(rel.get(1).getMetrics().getPerturbedImages());

      // One training image is gone from its URI: it trains on its stored features, without copies, and says why.
      String gone = files.keySet().stream().filter(s -> !Holdout.inBucket(s)).findFirst().orElseThrow();
      Files.delete(files.get(gone));
      cfg.put("trainer.augment", "true");
      cfg.put("trainer.augment.k", Integer.toString(K));
      int copies = (train - 1) * K;
      TrainerService.Outcome augmented;
      try (TrainerApp app = new TrainerApp(Settings.of(cfg))) {
        augmented = app.start().retrain();
        assertNotNull(augmented.version(), augmented.reasons().toString());
        assertEquals(copies + holdout, app.service().featuresComputed(), "copies only: the images' own features "
            + "came from the topic");
      }
      assertEquals(train, augmented.trainImages());
      assertEquals(copies, augmented.trainCopies());
      assertEquals(holdout, augmented.holdoutImages());
      assertEquals(holdout, augmented.perturbedImages());
      assertEquals(Map.of("without derivative copies, used clean only: FILE_NOT_FOUND", 1), augmented.unavailable());
      assertTrue(augmented.table().contains("perturbed AUC"), augmented.table());

      rel = feed.releases();
      assertEquals(4, rel.size());
      ModelRelease candidate = rel.get(2);
      ModelRelease verdict = rel.get(3);
      assertEquals(ReleaseStatus.CANDIDATE, candidate.getStatus());
      // The first retrain may have been REJECTED, leaving the champion's successor version taken: a new one is used.
      assertTrue(!candidate.getVersion().equals(rel.get(0).getVersion()), candidate.getVersion());
      assertTrue(verdict.getStatus() == ReleaseStatus.PROMOTED || verdict.getStatus() == ReleaseStatus.REJECTED);
      assertEquals(augmented.promoted(), verdict.getStatus() == ReleaseStatus.PROMOTED);
      assertEquals("trained on " + train + " images + " + copies + " derivative copies, holdout " + holdout + " + "
          + holdout + " perturbed", candidate.getReasons().get(0));
      assertTrue(candidate.getReasons().contains("1 image(s) without derivative copies, used clean only: "
          + "FILE_NOT_FOUND"), candidate.getReasons().toString());
      for (ModelRelease r : List.of(candidate, verdict)) {
        Double auc = r.getMetrics().getPerturbedAuc();
        assertTrue(auc != null && auc >= 0 && auc <= 1, "perturbed AUC " + auc);
        assertEquals(holdout, r.getMetrics().getPerturbedImages());
      }
      assertTrue(verdict.getReasons().stream().anyMatch(s -> s.contains("perturbed AUC")), verdict.getReasons()
          .toString());
      // The archive's manifest: training counts include the copies (those of validation images are dropped).
      Path unpacked = BundleArchive.unpack(Path.of(URI.create(candidate.getArtifactUri())), dir.resolve("unpacked"))
          .dir();
      JsonNode release = new ObjectMapper().readTree(unpacked.resolve(BundleManifest.FILE_NAME).toFile())
          .get("release");
      int trainedCopies = release.at("/training/train/augmented").asInt();
      assertTrue(trainedCopies > 0 && trainedCopies <= copies, "augmented examples trained on: " + trainedCopies);
      assertEquals(holdout, release.at("/holdout/perturbed_images").asInt());

      // 2. A restart: every image's and copy's features are on the topic; nothing is computed again.
      try (TrainerApp app = new TrainerApp(Settings.of(cfg))) {
        TrainerService.Outcome again = app.start().retrain();
        assertEquals(0, app.service().featuresComputed(), "a restart recomputes nothing");
        assertEquals(List.of(train, copies, holdout, holdout), List.of(again.trainImages(), again.trainCopies(),
            again.holdoutImages(), again.perturbedImages()));
        assertEquals(augmented.unavailable(), again.unavailable());
      }
    }
  }
}
