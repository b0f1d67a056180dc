package io.semspai.fusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semspai.bundle.Safetensors;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The golden fixtures (SPAI tiny, ConvNeXt tiny with OpenCLIP's extra tensors, the fusion head) as a bundle
 * directory, so the full model is tested through the same loading path as a real bundle.
 */
final class GoldenBundle {
  private GoldenBundle() {}

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  static Path semanticDir() {
    try {
      return Path.of(GoldenBundle.class.getResource("/golden/semantic/config.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path spaiDir() {
    return semanticDir().resolveSibling("spai");
  }

  static JsonNode expected() throws IOException {
    return JSON.readTree(semanticDir().resolve("expected.json").toFile());
  }

  static RgbImage image(String file) throws IOException {
    return ImageDecoder.decode(Files.readAllBytes(spaiDir().resolve("images").resolve(file)));
  }

  /** Writes the bundle to {@code dir} with the given SPAI input policy; {@code withFusion} false: SPAI only. */
  static Path create(Path dir, String inputPolicy, boolean withFusion) throws IOException {
    Files.createDirectories(dir);
    JsonNode config = JSON.readTree(semanticDir().resolve("config.json").toFile());
    ObjectNode m = JSON.createObjectNode();
    m.put("format", 1).put("name", "golden-tiny").put("version", "0.0.1").put("created", "2026-11-27T00:00:00Z");
    ObjectNode components = m.putObject("components");
    ObjectNode spai = component(components, "spai", spaiDir().resolve("weights.safetensors"), dir,
        JSON.readTree(spaiDir().resolve("config.json").toFile()));
    spai.putObject("settings").put("input_policy", inputPolicy);
    if (withFusion) {
      m.put("mode", "fusion");
      m.set("thresholds", ThresholdProfiles.uncalibrated(ThresholdProfiles.Score.FUSED, "golden").toJson());
      component(components, "convnext", semanticDir().resolve("convnext.safetensors"), dir, config.get("convnext"));
      component(components, "head", semanticDir().resolve("head.safetensors"), dir, config.get("fusion"));
    }
    Files.writeString(dir.resolve("manifest.json"), JSON.writeValueAsString(m));
    return dir;
  }

  private static ObjectNode component(ObjectNode components, String name, Path source, Path dir, JsonNode arch)
      throws IOException {
    String file = name + ".safetensors";
    Files.copy(source, dir.resolve(file));
    ObjectNode c = components.putObject(name);
    c.put("file", file).put("bytes", Files.size(source)).put("sha256", Safetensors.sha256Hex(source));
    c.set("architecture", arch);
    c.putObject("provenance").put("source", "golden fixture " + source.getFileName());
    return c;
  }
}
