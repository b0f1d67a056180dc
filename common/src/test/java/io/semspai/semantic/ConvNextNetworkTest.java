package io.semspai.semantic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import io.semspai.bundle.Safetensors;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ConvNextNetworkTest {
  @Test
  void fullTrunkHasOpenClipsKeysAndParameterCount() {
    Map<String, Shape> shapes = new ConvNextNetwork(ConvNextConfig.full()).stateShapes();
    assertEquals(843_398_016L, ConvNextRandomInit.parameterCount(ConvNextConfig.full()));
    assertEquals(new Shape(384, 3, 4, 4), shapes.get("visual.trunk.stem.0.weight"));
    assertEquals(new Shape(384), shapes.get("visual.trunk.stem.1.weight"));
    assertTrue(!shapes.containsKey("visual.trunk.stages.0.downsample.0.weight"), "stage 0 has no downsample");
    assertEquals(new Shape(1536, 768, 2, 2), shapes.get("visual.trunk.stages.2.downsample.1.weight"));
    assertEquals(new Shape(1536, 1, 7, 7), shapes.get("visual.trunk.stages.2.blocks.29.conv_dw.weight"));
    assertEquals(new Shape(1536), shapes.get("visual.trunk.stages.2.blocks.29.gamma"));
    assertEquals(new Shape(12288, 3072), shapes.get("visual.trunk.stages.3.blocks.2.mlp.fc1.weight"));
    assertEquals(new Shape(3072), shapes.get("visual.trunk.head.norm.bias"));
    assertTrue(shapes.keySet().stream().allMatch(k -> k.startsWith(ConvNextNetwork.PREFIX)));
  }

  @Test
  void everyNormUsesTimmsEps() {
    int[] norms = {0};
    walk(new ConvNextNetwork(ConvNextConfig.full()), norms);
    // 40 blocks' norm + stem.1 + 3 downsample norms + head.norm, each checked for 1e-5
    assertEquals(40 + 1 + 3 + 1, norms[0]);
  }

  private static void walk(ai.djl.nn.Block b, int[] norms) {
    double eps = b instanceof LayerNorm2d n ? n.eps()
        : b instanceof io.semspai.nn.TorchLayerNorm n ? n.eps() : Double.NaN;
    if (!Double.isNaN(eps)) {
      assertEquals(1e-5, eps, 1e-12);
      norms[0]++;
    }
    for (ai.djl.nn.Block child : b.getChildren().values()) {
      walk(child, norms);
    }
  }

  @Test
  void keysEqualTheTrunkTensorsOfTheFixtureCheckpoint() throws Exception {
    Path file = Path.of(getClass().getResource("/golden/semantic/convnext.safetensors").toURI());
    Set<String> trunk = new TreeSet<>();
    for (Safetensors.TensorInfo t : Safetensors.readHeader(file).tensors()) {
      if (t.name().startsWith(ConvNextNetwork.PREFIX)) {
        trunk.add(t.name());
      } else {
        assertTrue(ConvNextModel.UNUSED_OPEN_CLIP_KEYS.test(t.name()), t.name());
      }
    }
    assertEquals(trunk, new TreeSet<>(new ConvNextNetwork(ConvNextConfig.tiny()).stateShapes().keySet()));
  }

  @Test
  void configRoundTripsAndRefusesNonsense() throws Exception {
    assertEquals(ConvNextConfig.full(), ConvNextConfig.fromJson(ConvNextConfig.full().toJson()));
    assertTrue(ConvNextConfig.full().toJson().contains("\"layer_norm_eps\" : 1.0E-5"), ConvNextConfig.full().toJson());
    assertEquals(3072, ConvNextConfig.full().featureDim());
    assertEquals(7, ConvNextConfig.full().mapSize());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ConvNextConfig(
        java.util.List.of(1, 1), java.util.List.of(8), 1e-5, 224, new ConvNextConfig.Stem(4, 4),
        new ConvNextConfig.DwConv(7, 3), 4));
    assertTrue(e.getMessage().contains("depths and dims"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ConvNextConfig.preset("huge"));
  }

  @Test
  void randomInitIsSeededPerTensor() {
    long[] shape = {8, 3, 4, 4};
    float[] a = ConvNextRandomInit.values("visual.trunk.stem.0.weight", shape, 1);
    assertEquals(a[5], ConvNextRandomInit.values("visual.trunk.stem.0.weight", shape, 1)[5]);
    assertTrue(a[5] != ConvNextRandomInit.values("visual.trunk.stem.0.weight", shape, 2)[5]);
    float[] gamma = ConvNextRandomInit.values("visual.trunk.stages.0.blocks.0.gamma", new long[] {64}, 1);
    double mean = 0;
    for (float g : gamma) {
      mean += g / gamma.length;
    }
    assertEquals(0.5, mean, 0.03);
  }
}
