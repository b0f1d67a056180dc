package io.semspai.semantic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.bundle.Safetensors;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Golden parity of the semantic branch with the PyTorch reference ({@code tools/reference/semantic_reference.py}):
 * the input path (pad, antialiased resize, ImageNet norm), the trunk's map before and after {@code head.norm}, and
 * the pooled feature of every fixture image, from both the safetensors file and OpenCLIP's own {@code .bin}.
 */
class SemanticParityTest {
  /** A wrong LayerNorm eps (1e-6 for 1e-5) moves these features by ~1e-5; the reference's fp32/fp64 gap is 3e-7. */
  static final double FEATURE_TOL = 1e-5;
  static final double INPUT_TOL = 1e-4;
  static Path dir;
  static Path images;
  static ConvNextConfig cfg;
  static ConvNextModel model;
  static JsonNode expected;

  @BeforeAll
  static void load() throws Exception {
    dir = Path.of(SemanticParityTest.class.getResource("/golden/semantic/config.json").toURI()).getParent();
    images = dir.resolveSibling("spai").resolve("images");
    JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
    cfg = new ObjectMapper().treeToValue(config.get("convnext"), ConvNextConfig.class);
    model = ConvNextModel.fromSafetensors(cfg, dir.resolve("convnext.safetensors"));
    expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static RgbImage image(String file) throws Exception {
    return ImageDecoder.decode(Files.readAllBytes(images.resolve(file)));
  }

  static float[] input(String file) throws Exception {
    return SemanticInput.of(image(file), 224, cfg.inputSize());
  }

  @Test
  void fixtureConfigIsTheTinyPresetWithTimmsEps() throws Exception {
    assertEquals(ConvNextConfig.tiny(), cfg);
    assertEquals(1e-5, ConvNextConfig.full().layerNormEps());
    JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
    JsonNode norm = config.get("normalization");
    for (int c = 0; c < 3; c++) {
      assertEquals(norm.get("mean").get(c).floatValue(), SemanticInput.IMAGENET_MEAN[c]);
      assertEquals(norm.get("std").get(c).floatValue(), SemanticInput.IMAGENET_STD[c]);
    }
  }

  @Test
  void inputPathMatchesTheReferenceElementwiseAndInStatistics() throws Exception {
    Map<String, float[]> debug = Safetensors.readAllFloats(dir.resolve("debug.safetensors"));
    String first = expected.get("images").get(0).get("file").asText();
    float[] ref = debug.get("semantic_input");
    float[] x = input(first);
    double max = 0;
    for (int i = 0; i < ref.length; i++) {
      max = Math.max(max, Math.abs(ref[i] - x[i]));
    }
    assertTrue(max <= INPUT_TOL, "semantic input of " + first + ": max |Δ| " + max);
    double maxStat = 0;
    for (JsonNode img : expected.get("images")) {
      float[] in = input(img.get("file").asText());
      double mean = 0;
      for (float v : in) {
        mean += v;
      }
      mean /= in.length;
      double ss = 0;
      for (float v : in) {
        ss += (v - mean) * (v - mean);
      }
      double std = Math.sqrt(ss / (in.length - 1));
      JsonNode st = img.get("semantic_input_stats");
      maxStat = Math.max(maxStat, Math.max(Math.abs(mean - st.get("mean").asDouble()),
          Math.abs(std - st.get("std").asDouble())));
    }
    // the padded images (sides below 224) would be off by far more without the reflect-101 padding
    assertTrue(maxStat <= 1e-5, "input mean/std max |Δ| " + maxStat);
    System.out.printf(Locale.ROOT, "semantic input parity: elementwise %.3g, mean/std %.3g%n", max, maxStat);
  }

  @Test
  void trunkMapAndHeadNormMatchTheReference() throws Exception {
    Map<String, float[]> debug = Safetensors.readAllFloats(dir.resolve("debug.safetensors"));
    String first = expected.get("images").get(0).get("file").asText();
    int s = cfg.inputSize();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(debug.get("semantic_input"), new Shape(1, 3, s, s));
      NDArray map = model.network().forwardMap(null, x, false);
      assertEquals(new Shape(1, cfg.featureDim(), cfg.mapSize(), cfg.mapSize()), map.getShape());
      double dMap = maxAbs(debug.get("trunk_map"), map.toFloatArray());
      double dNorm = maxAbs(debug.get("trunk_map_normed"), model.network().headNorm(null, map, false).toFloatArray());
      assertTrue(dMap <= 5e-5, "trunk map of " + first + ": " + dMap);
      assertTrue(dNorm <= 5e-5, "normed trunk map of " + first + ": " + dNorm);
      System.out.printf(Locale.ROOT, "trunk map parity: %.3g, after head.norm %.3g%n", dMap, dNorm);
    }
  }

  @Test
  void semanticFeatureOfEveryImageMatchesTheReference() throws Exception {
    double max = featureDeviation(model);
    assertTrue(max <= FEATURE_TOL, "semantic feature max |Δ| " + max);
    System.out.printf(Locale.ROOT, "semantic feature parity (10 images): max |Δ| %.3g%n", max);
  }

  @Test
  void openClipBinLoadsTheSameTrunkAndSkipsTheRest() throws Exception {
    try (ConvNextModel fromBin = ConvNextModel.fromTorchCheckpoint(cfg, dir.resolve("open_clip_pytorch_model.bin"))) {
      double max = featureDeviation(fromBin);
      assertTrue(max <= FEATURE_TOL, "semantic feature (from .bin) max |Δ| " + max);
    }
  }

  @Test
  void normThenPoolIsWhatTheFeatureIs() throws Exception {
    // The reference pools after head.norm; pooling first then norming (OpenCLIP's order) must give another answer.
    String first = expected.get("images").get(0).get("file").asText();
    float[] x = input(first);
    float[] feature = model.features(x);
    int s = cfg.inputSize();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray map = model.network().forwardMap(null, m.create(x, new Shape(1, 3, s, s)), false);
      long c = map.getShape().get(1);
      NDArray pooled = map.reshape(1, c, -1).mean(new int[] {2}).reshape(1, c, 1, 1);
      NDArray pooledFirst = model.network().headNorm(null, pooled, false).reshape(1, -1);
      double d = maxAbs(feature, pooledFirst.toFloatArray());
      assertTrue(d > 0.05, "pool-then-norm should differ clearly, differs by " + d);
    }
  }

  @Test
  void batchedFeaturesEqualOneByOne() throws Exception {
    JsonNode imgs = expected.get("images");
    int n = 4;
    int len = 3 * cfg.inputSize() * cfg.inputSize();
    float[] packed = new float[n * len];
    for (int i = 0; i < n; i++) {
      System.arraycopy(input(imgs.get(i).get("file").asText()), 0, packed, i * len, len);
    }
    float[] batched = model.features(packed, n, 3);
    int c = cfg.featureDim();
    for (int i = 0; i < n; i++) {
      float[] one = model.features(java.util.Arrays.copyOfRange(packed, i * len, (i + 1) * len));
      assertTrue(maxAbs(one, java.util.Arrays.copyOfRange(batched, i * c, (i + 1) * c)) <= 1e-6, "image " + i);
    }
  }

  static double featureDeviation(ConvNextModel m) throws Exception {
    double max = 0;
    for (JsonNode img : expected.get("images")) {
      float[] f = m.features(input(img.get("file").asText()));
      JsonNode ref = img.get("semantic_feature");
      assertEquals(ref.size(), f.length);
      for (int i = 0; i < f.length; i++) {
        max = Math.max(max, Math.abs(ref.get(i).asDouble() - f[i]));
      }
    }
    return max;
  }

  static double maxAbs(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
