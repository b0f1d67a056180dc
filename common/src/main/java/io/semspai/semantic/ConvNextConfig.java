package io.semspai.semantic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Sizes of the ConvNeXt trunk (timm layout, as OpenCLIP wraps it). {@link #full()} is OpenCLIP's
 * {@code convnext_xxlarge}; {@link #tiny()} is the shape of the golden fixtures. The JSON form (snake_case) is the
 * bundle manifest's architecture block and the {@code convnext} section of the golden {@code config.json}.
 *
 * @param depths blocks per stage
 * @param dims channels per stage
 * @param layerNormEps eps of every norm: 1e-5 in current timm (since 0.9) for convnext_xxlarge, not the 1e-6 of
 *     older ConvNeXt configs
 * @param inputSize the semantic input's side (Sem-SPAI resizes to 224, not OpenCLIP's native 256)
 * @param stem patchify stem: conv kernel = stride
 * @param dwconv depthwise conv of each block
 * @param mlpRatio hidden width of each block's MLP, as a multiple of its channels
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ConvNextConfig(List<Integer> depths, List<Integer> dims, double layerNormEps, int inputSize, Stem stem,
    DwConv dwconv, int mlpRatio) {

  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Stem(int kernel, int stride) {}

  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record DwConv(int kernel, int padding) {}

  public ConvNextConfig {
    List<String> problems = new ArrayList<>();
    if (depths == null || dims == null || depths.isEmpty() || depths.size() != dims.size()) {
      problems.add("depths and dims must be non-empty and of equal length");
    } else {
      depths = List.copyOf(depths);
      dims = List.copyOf(dims);
      for (int i = 0; i < depths.size(); i++) {
        if (depths.get(i) < 1 || dims.get(i) < 1) {
          problems.add("stage " + i + ": depth and dim must be positive");
        }
      }
    }
    if (!(layerNormEps > 0)) {
      problems.add("layer_norm_eps must be positive");
    }
    if (stem == null || stem.kernel < 1 || stem.stride < 1) {
      problems.add("stem kernel and stride must be positive");
    }
    if (dwconv == null || dwconv.kernel < 1 || dwconv.padding < 0 || dwconv.kernel != 2 * dwconv.padding + 1) {
      problems.add("dwconv must be an odd kernel with 'same' padding (kernel = 2·padding + 1)");
    }
    if (mlpRatio < 1) {
      problems.add("mlp_ratio must be positive");
    }
    if (inputSize < 1 || stem != null && depths != null && inputSize / stem.stride >> (depths.size() - 1) < 1) {
      problems.add("input_size " + inputSize + " is too small for the stem and " + (depths == null ? 0
          : depths.size() - 1) + " downsamplings");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid ConvNeXt config: " + String.join("; ", problems));
    }
  }

  /** OpenCLIP {@code convnext_xxlarge} (laion2b_s34b_b82k_augreg): 843,398,016 trunk parameters. */
  public static ConvNextConfig full() {
    return new ConvNextConfig(List.of(3, 4, 30, 3), List.of(384, 768, 1536, 3072), 1e-5, 224, new Stem(4, 4),
        new DwConv(7, 3), 4);
  }

  /** The golden fixtures' trunk: every code path, fast enough for unit tests. */
  public static ConvNextConfig tiny() {
    return new ConvNextConfig(List.of(1, 1, 2, 1), List.of(8, 16, 32, 64), 1e-5, 224, new Stem(4, 4),
        new DwConv(7, 3), 4);
  }

  public static ConvNextConfig preset(String name) {
    return switch (name) {
      case "full" -> full();
      case "tiny" -> tiny();
      default -> throw new IllegalArgumentException("unknown ConvNeXt preset '" + name + "' (choose full or tiny)");
    };
  }

  public int stages() {
    return depths.size();
  }

  /** Width of the semantic feature: the last stage's channels (3072 for the full trunk). */
  public int featureDim() {
    return dims.get(dims.size() - 1);
  }

  /** Side of the last stage's map for the configured input (7 at 224 px). */
  public int mapSize() {
    return inputSize / stem.stride >> (depths.size() - 1);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public String toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ConvNextConfig fromJson(String json) throws IOException {
    return JSON.readValue(json, ConvNextConfig.class);
  }
}
