package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SpaiConfigTest {
  @Test
  void fullPresetIsUpstreamsShape() {
    SpaiConfig c = SpaiConfig.full();
    assertEquals(1096, c.featureDim());
    assertEquals(3288, c.headHidden());
    assertEquals(128, c.sca().headDim());
    assertEquals(196, c.vit().tokens());
    assertEquals(3072, c.vit().mlpHidden());
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), c.fre().intermediateLayers());
  }

  @Test
  void tinyPresetMatchesTheGoldenFixtures() {
    SpaiConfig c = SpaiConfig.tiny();
    assertEquals(88, c.featureDim());
    assertEquals(264, c.headHidden());
    assertEquals(12, c.sca().headDim());
  }

  @Test
  void jsonRoundTripUsesTheFixtureLayout() throws Exception {
    String json = SpaiConfig.tiny().toJson();
    assertTrue(json.contains("\"img_size\" : 224"), json);
    assertTrue(json.contains("\"intermediate_layers\" : [ 0, 1, 2, 3 ]"), json);
    assertTrue(json.contains("\"minimum_patches\" : 4"), json);
    assertEquals(SpaiConfig.tiny(), SpaiConfig.fromJson(json));
    String golden = "{\"vit\":{\"img_size\":224,\"patch_size\":16,\"embed_dim\":32,\"depth\":4,\"num_heads\":2,"
        + "\"mlp_ratio\":4.0,\"layer_norm_eps\":1e-06},\"fre\":{\"projection_dim\":64,\"intermediate_layers\":"
        + "[0,1,2,3],\"masking_radius\":16},\"sca\":{\"attn_embed_dim\":48,\"num_heads\":4},\"head\":{\"mlp_ratio\":3},"
        + "\"patch\":{\"size\":224,\"stride\":224,\"minimum_patches\":4}}";
    assertEquals(SpaiConfig.tiny(), SpaiConfig.fromJson(golden));
  }

  @Test
  void inconsistentSizesAreRefusedWithEveryReason() {
    SpaiConfig t = SpaiConfig.tiny();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SpaiConfig(
        new SpaiConfig.Vit(224, 16, 30, 4, 4, 4, 1e-6),
        new SpaiConfig.Fre(64, List.of(0, 7), 16),
        t.sca(), t.head(), t.patch()));
    assertTrue(e.getMessage().contains("vit.embed_dim 30 must be a positive multiple of vit.num_heads 4"),
        e.getMessage());
    assertTrue(e.getMessage().contains("fre.intermediate_layers entry 7 is outside 0..3"), e.getMessage());
  }

  @Test
  void unknownPresetNamesTheChoices() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpaiConfig.preset("base"));
    assertEquals("unknown SPAI preset 'base' (choose full or tiny)", e.getMessage());
  }
}
