package io.semspai.engine;

import io.semspai.spai.SpaiResult;
import java.util.List;

/**
 * What the model computed for one image.
 *
 * @param spectralLogit SPAI's own head
 * @param spectralFeature SPAI's post-LayerNorm SCA output (1096 values in the full model)
 * @param attention per-patch boxes in original-image pixels, with SCA weights averaged over heads
 * @param semanticFeature ConvNeXt's norm-then-pool feature, or null in spectral mode
 * @param fusedLogit the fusion head's logit, or null in spectral mode
 */
public record ModelOutput(float spectralLogit, float[] spectralFeature, List<SpaiResult.PatchAttention> attention,
    float[] semanticFeature, Float fusedLogit) {
  public float spectralScore() {
    return SpaiResult.sigmoid(spectralLogit);
  }

  public Float fusedScore() {
    return fusedLogit == null ? null : SpaiResult.sigmoid(fusedLogit);
  }

  /** The score a verdict carries: fused where fusion ran, else spectral. */
  public float score() {
    return fusedLogit == null ? spectralScore() : fusedScore();
  }

  public float logit() {
    return fusedLogit == null ? spectralLogit : fusedLogit;
  }
}
