package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.DType;
import io.semspai.checkpoint.TorchCheckpointWriter;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** The golden SPAI fixtures (tiny config, spread weights) and ways to rewrite them into other checkpoints. */
final class GoldenSpai {
  private GoldenSpai() {}

  static Path dir() {
    try {
      return Path.of(GoldenSpai.class.getResource("/golden/spai/config.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(String name) {
    try {
      return new ObjectMapper().readTree(dir().resolve(name).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One tensor of the golden state dict: float values, or long values for the int64 mask. */
  record Tensor(long[] shape, float[] floats, long[] longs) {}

  /** The golden fp32 state dict (upstream keys, unused extras included), in file order. */
  static Map<String, Tensor> stateDict() throws IOException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    Safetensors.stream(dir().resolve("weights.safetensors"), null, k -> true, (info, buf) -> {
      if (info.dtype() == Safetensors.DType.I64) {
        out.put(info.name(), new Tensor(info.shape(), null, Safetensors.toLongs(info, buf)));
      } else {
        out.put(info.name(), new Tensor(info.shape(), Safetensors.toFloats(info, buf), null));
      }
    });
    return out;
  }

  /** Writes {@code state} as a bare torch.save state dict with floats in {@code dtype}. */
  static Path writeBare(Path file, Map<String, Tensor> state, DType dtype) throws IOException {
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      Map<String, Object> sd = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : state.entrySet()) {
        Tensor t = e.getValue();
        sd.put(e.getKey(), t.longs() != null ? w.tensor(DType.I64, t.shape(), t.longs())
            : w.tensor(dtype, t.shape(), t.floats()));
      }
      w.finish(TorchCheckpointWriter.orderedDict(sd));
    }
    return file;
  }

  /** The golden state dict with {@code edit} applied to a mutable copy. */
  static Map<String, Tensor> edited(UnaryOperator<Map<String, Tensor>> edit) throws IOException {
    return edit.apply(new LinkedHashMap<>(stateDict()));
  }

  /** Max |Δ| of logits and image features of every golden image scored by the bundle's model. */
  static double[] maxDrift(Path bundle) throws IOException {
    JsonNode expected = json("expected.json");
    double maxLogit = 0;
    double maxFeature = 0;
    double maxPatch = 0;
    try (SpaiModel model = SpaiModel.load(bundle)) {
      for (JsonNode img : expected.get("images")) {
        RgbImage rgb = ImageDecoder.decode(Files.readAllBytes(dir().resolve("images").resolve(img.get("file")
            .asText())));
        SpaiResult r = model.score(rgb);
        maxLogit = Math.max(maxLogit, Math.abs(r.logit() - img.get("logit").asDouble()));
        for (int i = 0; i < r.imageFeature().length; i++) {
          maxFeature = Math.max(maxFeature, Math.abs(r.imageFeature()[i] - img.get("image_feature").get(i)
              .asDouble()));
        }
        JsonNode pf = img.get("patch_features");
        assertEquals(pf.size(), r.patchFeatures().length);
        for (int p = 0; p < pf.size(); p++) {
          for (int i = 0; i < r.patchFeatures()[p].length; i++) {
            maxPatch = Math.max(maxPatch, Math.abs(r.patchFeatures()[p][i] - pf.get(p).get(i).asDouble()));
          }
        }
      }
    }
    assertTrue(expected.get("images").size() >= 5);
    return new double[] {maxLogit, maxFeature, maxPatch};
  }

  static List<String> tinySettings() {
    return List.of("vit.num_heads=2");
  }
}
