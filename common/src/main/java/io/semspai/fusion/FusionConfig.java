package io.semspai.fusion;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.semspai.semantic.ConvNextConfig;
import io.semspai.spai.SpaiConfig;

/**
 * Sizes of Sem-SPAI's fusion head ({@code SemanticContextModel}). The classifier's hidden width equals
 * {@code fusion_dim}, as upstream's {@code Linear(1096+512, 512)}. JSON (snake_case) is the bundle's {@code head}
 * architecture and the {@code fusion} section of the golden {@code config.json}.
 *
 * @param spectralDim SPAI's image feature (post-LayerNorm SCA output): 1096
 * @param semanticDim the ConvNeXt feature: 3072
 * @param projectionDim semantic projection: 256
 * @param fusionDim fusion layer and classifier hidden width: 512
 * @param layerNormEps eps of the projection's LayerNorm (torch default 1e-5)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record FusionConfig(int spectralDim, int semanticDim, int projectionDim, int fusionDim, double layerNormEps) {
  public FusionConfig {
    if (spectralDim < 1 || semanticDim < 1 || projectionDim < 1 || fusionDim < 1 || !(layerNormEps > 0)) {
      throw new IllegalArgumentException("invalid fusion head config: every size and layer_norm_eps must be positive, "
          + "got spectral_dim " + spectralDim + ", semantic_dim " + semanticDim + ", projection_dim " + projectionDim
          + ", fusion_dim " + fusionDim + ", layer_norm_eps " + layerNormEps);
    }
  }

  /** Sem-SPAI: 3072 → 256; 1096 + 256 → 512; 1096 + 512 → 512 → 1 (2,309,889 parameters). */
  public static FusionConfig full() {
    return new FusionConfig(1096, 3072, 256, 512, 1e-5);
  }

  /** The golden fixtures' head, on the tiny SPAI (88) and tiny ConvNeXt (64). */
  public static FusionConfig tiny() {
    return new FusionConfig(88, 64, 16, 24, 1e-5);
  }

  public static FusionConfig preset(String name) {
    return switch (name) {
      case "full" -> full();
      case "tiny" -> tiny();
      default -> throw new IllegalArgumentException("unknown fusion head preset '" + name + "' (choose full or tiny)");
    };
  }

  /** A head of this shape whose inputs match the given backbones' feature widths. */
  public boolean fits(SpaiConfig spai, ConvNextConfig convnext) {
    return spai.featureDim() == spectralDim && convnext.featureDim() == semanticDim;
  }
}
