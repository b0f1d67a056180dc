package io.semspai.trainer;

import io.semspai.engine.Detection;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.ModelOutput;
import io.semspai.image.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Frozen features of images, computed by the engine's model (fusion mode): the spectral and semantic features the
 * head trains on, for an image and, for augmentation and the perturbed holdout, its derivative copies
 * ({@link Derivatives}). The engine batches submissions from any thread; a derivative is submitted under its own
 * cache key ({@code sha256|spec}) so it never answers for the image itself.
 */
public final class FeatureExtractor {
  /**
   * One image's features.
   *
   * @param sha256 the source image's sha256 (also the derivative's)
   * @param variant null for the image itself, else the perturbation that made the derivative
   */
  public record Features(String sha256, String variant, float[] spectral, float[] semantic) {
    public TrainingExample toExample(int label, double importance) {
      return new TrainingExample(sha256, spectral, semantic, label, importance, variant);
    }
  }

  private final InferenceEngine engine;

  public FeatureExtractor(InferenceEngine engine) {
    this.engine = engine;
  }

  /** The features of an image, or of a derivative when {@code variant} names it. */
  public CompletableFuture<Features> submit(RgbImage image, String sha256, String variant) {
    String key = variant == null ? sha256 : sha256 + "|" + variant;
    return engine.submit(image, key, 0).thenApply(d -> features(d, sha256, variant));
  }

  /** Features of an image's derivative copies ({@link Derivatives}), in the copies' order. */
  public List<CompletableFuture<Features>> submitCopies(RgbImage image, String sha256, List<Derivatives.Copy> copies) {
    List<CompletableFuture<Features>> out = new ArrayList<>(copies.size());
    for (Derivatives.Copy c : copies) {
      out.add(submit(c.apply(image), sha256, c.variant()));
    }
    return out;
  }

  private static Features features(Detection d, String sha256, String variant) {
    ModelOutput o = d.output();
    if (o.semanticFeature() == null) {
      throw new IllegalStateException("model " + d.modelVersion() + " runs in spectral mode and gives no semantic "
          + "feature; the fusion head trains on fusion-mode features");
    }
    return new Features(sha256, variant, o.spectralFeature(), o.semanticFeature());
  }
}
