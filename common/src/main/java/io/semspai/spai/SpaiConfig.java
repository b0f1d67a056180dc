package io.semspai.spai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Every size of the SPAI model in one object. {@link #full()} is upstream's {@code configs/spai.yaml}; {@link
 * #tiny()} is the shape the golden fixtures use. The JSON form (snake_case, sections {@code vit}, {@code fre},
 * {@code sca}, {@code head}, {@code patch}) is the bundle manifest's architecture block and the golden
 * {@code config.json}.
 */
public record SpaiConfig(Vit vit, Fre fre, Sca sca, Head head, Patch patch) {
  /** LayerNorm epsilon of the FRE, SCA and head: torch's default, not the ViT's 1e-6. */
  public static final double TORCH_LAYER_NORM_EPS = 1e-5;

  /** BEiT-style ViT (MFM weights): q/v bias only, no layer scale, learned absolute position embedding. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Vit(
      int imgSize, int patchSize, int embedDim, int depth, int numHeads, double mlpRatio, double layerNormEps) {
    public int gridSize() {
      return imgSize / patchSize;
    }

    public int tokens() {
      return gridSize() * gridSize();
    }

    public int mlpHidden() {
      return (int) (embedDim * mlpRatio);
    }
  }

  /** Frequency Restoration Estimator: one projector per intermediate layer, and the circular mask radius. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Fre(int projectionDim, List<Integer> intermediateLayers, int maskingRadius) {
    public Fre {
      intermediateLayers = List.copyOf(intermediateLayers);
    }

    public int layers() {
      return intermediateLayers.size();
    }
  }

  /** Spectral Context Attention: a learnable query of {@code numHeads × attnEmbedDim/numHeads}. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Sca(int attnEmbedDim, int numHeads) {
    public int headDim() {
      return attnEmbedDim / numHeads;
    }
  }

  /** Classification head {@code d → d·r → d·r → 1}. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Head(double mlpRatio) {}

  /** How an image is cut: {@code size}² patches every {@code stride} px; five-crop below {@code minimumPatches}. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Patch(int size, int stride, int minimumPatches) {}

  public SpaiConfig {
    List<String> problems = new ArrayList<>();
    if (vit.imgSize <= 0 || vit.patchSize <= 0 || vit.imgSize % vit.patchSize != 0) {
      problems.add("vit.img_size " + vit.imgSize + " must be a positive multiple of vit.patch_size " + vit.patchSize);
    }
    if (vit.imgSize % 2 != 0) {
      problems.add("vit.img_size " + vit.imgSize + " must be even (the frequency mask is built from two halves)");
    }
    if (vit.embedDim <= 0 || vit.numHeads <= 0 || vit.embedDim % vit.numHeads != 0) {
      problems.add("vit.embed_dim " + vit.embedDim + " must be a positive multiple of vit.num_heads " + vit.numHeads);
    }
    if (vit.depth <= 0 || vit.mlpRatio <= 0 || !(vit.layerNormEps > 0)) {
      problems.add("vit.depth, vit.mlp_ratio and vit.layer_norm_eps must be positive");
    }
    if (fre.projectionDim <= 0 || fre.intermediateLayers.isEmpty() || fre.maskingRadius <= 0) {
      problems.add("fre.projection_dim, fre.intermediate_layers and fre.masking_radius must be positive / non-empty");
    }
    for (int layer : fre.intermediateLayers) {
      if (layer < 0 || layer >= vit.depth) {
        problems.add("fre.intermediate_layers entry " + layer + " is outside 0.." + (vit.depth - 1));
      }
    }
    if (sca.numHeads <= 0 || sca.attnEmbedDim <= 0 || sca.attnEmbedDim % sca.numHeads != 0) {
      problems.add("sca.attn_embed_dim " + sca.attnEmbedDim + " must be a positive multiple of sca.num_heads "
          + sca.numHeads);
    }
    if (head.mlpRatio <= 0) {
      problems.add("head.mlp_ratio must be positive");
    }
    if (patch.size != vit.imgSize) {
      problems.add("patch.size " + patch.size + " must equal vit.img_size " + vit.imgSize);
    }
    if (patch.stride <= 0 || patch.minimumPatches < 0) {
      problems.add("patch.stride must be positive and patch.minimum_patches non-negative");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid SPAI config: " + String.join("; ", problems));
    }
  }

  /** Upstream SPAI: ViT-B/16 (MFM), 12 projectors of 1024, SCA 1536 / 12 heads, head ratio 3. */
  public static SpaiConfig full() {
    return new SpaiConfig(
        new Vit(224, 16, 768, 12, 12, 4.0, 1e-6),
        new Fre(1024, IntStream.range(0, 12).boxed().toList(), 16),
        new Sca(1536, 12),
        new Head(3.0),
        new Patch(224, 224, 4));
  }

  /** The shape of the golden fixtures: fast enough for unit tests, every code path still exercised. */
  public static SpaiConfig tiny() {
    return new SpaiConfig(
        new Vit(224, 16, 32, 4, 2, 4.0, 1e-6),
        new Fre(64, List.of(0, 1, 2, 3), 16),
        new Sca(48, 4),
        new Head(3.0),
        new Patch(224, 224, 4));
  }

  public static SpaiConfig preset(String name) {
    return switch (name) {
      case "full" -> full();
      case "tiny" -> tiny();
      default -> throw new IllegalArgumentException("unknown SPAI preset '" + name + "' (choose full or tiny)");
    };
  }

  /** Width of a patch feature and of the image feature: 6 similarity statistics per layer + the projection. */
  public int featureDim() {
    return 6 * fre.layers() + fre.projectionDim;
  }

  public int headHidden() {
    return (int) (featureDim() * head.mlpRatio);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public String toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static SpaiConfig fromJson(String json) throws IOException {
    return JSON.readValue(json, SpaiConfig.class);
  }
}
