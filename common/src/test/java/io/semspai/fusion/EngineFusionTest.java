package io.semspai.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.semspai.bundle.BundleManifest;
import io.semspai.engine.Detection;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.ModelOutput;
import io.semspai.image.RgbImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine drives {@link SemSpaiModel} as a {@link io.semspai.engine.BatchModel}, and hot-swaps its head. */
class EngineFusionTest {
  @TempDir Path tmp;

  @Test
  void batchedEngineResultsEqualOneImageAtATimeAndHeadSwapChangesTheVersion() throws Exception {
    // batch size changes the GEMM summation order, so "equal" is within the parity tolerance (seen: 1e-5)
    List<String> files = List.of("rgb_512x512.png", "small_180x150.png", "wide_500x100.png", "rgb_896x672.png",
        "tall_115x301.png");
    List<RgbImage> images = new ArrayList<>();
    for (String f : files) {
      images.add(GoldenBundle.image(f));
    }
    SemSpaiModel model = SemSpaiModel.load(GoldenBundle.create(tmp.resolve("golden"), "native", true));
    List<ModelOutput> alone = new ArrayList<>();
    for (RgbImage im : images) {
      alone.add(model.score(im));
    }
    InferenceEngine.Options opts = InferenceEngine.Options.defaults(model.bytesPerPatch()).withMaxBatchPatches(24)
        .withMaxDelay(Duration.ofMillis(200)).withMemoryBudget(2L << 30);
    try (InferenceEngine engine = new InferenceEngine(model, opts, new SimpleMeterRegistry())) {
      List<CompletableFuture<Detection>> futures = new ArrayList<>();
      for (int i = 0; i < images.size(); i++) {
        futures.add(engine.submit(images.get(i), "sha-" + i, 0));
      }
      for (int i = 0; i < images.size(); i++) {
        Detection d = futures.get(i).get();
        assertEquals("0.0.1", d.modelVersion());
        assertEquals(alone.get(i).fusedLogit(), d.output().fusedLogit(), 1e-4f, files.get(i));
        assertEquals(alone.get(i).spectralLogit(), d.output().spectralLogit(), 1e-4f, files.get(i));
        assertEquals(alone.get(i).attention().size(), d.output().attention().size());
        for (int k = 0; k < alone.get(i).attention().size(); k++) {
          assertEquals(alone.get(i).attention().get(k).box(), d.output().attention().get(k).box());
          assertEquals(alone.get(i).attention().get(k).attention(), d.output().attention().get(k).attention(), 1e-5f);
        }
      }
      HeadBundle hb = HeadBundle.open(HeadBundle.write(tmp.resolve("head"), "head", "0.3.0", model.headConfig(),
          HeadBundleTest.negatedHeadOf(model), ThresholdProfiles.uncalibrated(ThresholdProfiles.Score.FUSED, "t"),
          model.backboneHashes(), BundleManifest.Provenance.randomInit(0), Map.of()));
      engine.swap(model.swapHead(hb));
      Detection d = engine.submit(images.get(0), "sha-0", 0).get();
      assertEquals("0.3.0", d.modelVersion());
      assertFalse(d.deduplicated(), "the cache is per version");
      assertEquals(-alone.get(0).fusedLogit(), d.output().fusedLogit(), 1e-4f);
    }
  }
}
