package io.semspai.spai;

import java.util.List;

/**
 * SPAI's verdict on one image.
 *
 * @param logit the head's output; higher means more likely AI-generated
 * @param score {@code sigmoid(logit)}
 * @param imageFeature the post-LayerNorm SCA output (D values): the spectral feature Sem-SPAI fuses
 * @param patches each patch's box in the original image with its attention weight (averaged over heads; the
 *     weights sum to 1), in patch order
 * @param patchFeatures the L×D patch features the attention aggregated, in patch order
 * @param crop how the patches were chosen
 */
public record SpaiResult(
    float logit,
    float score,
    float[] imageFeature,
    List<PatchAttention> patches,
    float[][] patchFeatures,
    SpaiPatches.Crop crop) {
  public SpaiResult {
    patches = List.copyOf(patches);
  }

  /** One patch's box and attention weight. */
  public record PatchAttention(PatchBox box, float attention) {}

  public static float sigmoid(float logit) {
    return (float) (1.0 / (1.0 + Math.exp(-(double) logit)));
  }
}
