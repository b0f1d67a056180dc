package io.semspai.trainer;

import java.util.Objects;

/**
 * One labelled image as the head trainer sees it: the frozen features the champion's backbones computed for it,
 * its label and its importance weight.
 *
 * @param key the image's identity (its sha256): examples that share a key are the same image (a clean copy and its
 *     augmented derivatives) and always land on the same side of the validation split
 * @param spectral SPAI's image feature (D values, 1096 for the full model)
 * @param semantic the ConvNeXt feature (S values, 3072 for the full model)
 * @param label 0 real, 1 AI
 * @param importance the selection-bias correction of {@link ImportanceWeights} (1 when there is none); class
 *     balancing is applied on top of it by the trainer
 * @param variant null for the image itself; for an augmented copy, the perturbation that made it (e.g.
 *     {@code jpeg=73}). Augmented copies train but never validate.
 */
public record TrainingExample(String key, float[] spectral, float[] semantic, int label, double importance,
    String variant) {
  public TrainingExample {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(spectral, "spectral");
    Objects.requireNonNull(semantic, "semantic");
    if (label != 0 && label != 1) {
      throw new IllegalArgumentException("label must be 0 (real) or 1 (AI), got " + label + " for " + key);
    }
    if (!(importance > 0) || Double.isInfinite(importance)) {
      throw new IllegalArgumentException("importance weight must be positive and finite, got " + importance + " for "
          + key);
    }
  }

  /** The image itself, importance 1. */
  public static TrainingExample of(String key, float[] spectral, float[] semantic, int label) {
    return new TrainingExample(key, spectral, semantic, label, 1.0, null);
  }

  /** An augmented copy of an image (same key, label and importance as the image). */
  public TrainingExample copy(String perturbation, float[] spectral, float[] semantic) {
    return new TrainingExample(key, spectral, semantic, label, importance, Objects.requireNonNull(perturbation,
        "perturbation"));
  }

  public TrainingExample withImportance(double w) {
    return new TrainingExample(key, spectral, semantic, label, w, variant);
  }

  public TrainingExample withLabel(int l) {
    return new TrainingExample(key, spectral, semantic, l, importance, variant);
  }

  public boolean isAugmented() {
    return variant != null;
  }
}
