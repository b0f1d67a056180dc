package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SpaiFlopsTest {
  @Test
  void fullPresetMatchesThePublishedViTCountAndTheSpecsEstimate() {
    SpaiFlops f = SpaiFlops.of(SpaiConfig.full());
    // OpenCLIP's profile: ViT-B/16 at 224 px, 35.13 GFLOPs (patch embedding + 12 blocks dominate)
    assertEquals(35.13e9, f.vitPass(), 0.01e9);
    // spec §5: FRE projections ≈ 26 GFLOPs, whole patch ≈ 131 GFLOPs
    assertEquals(25.9e9, f.freProjectors(), 0.05e9);
    assertEquals(131.4e9, f.perPatch(), 0.1e9);
    // exact multiply-add arithmetic for the full preset
    assertEquals(2 * (196.0 * 768 * 768 + 12 * (197.0 * 768 * 9216 + 2 * 197.0 * 197 * 768)), f.vitPass(), 1);
    assertEquals(2 * 12 * 3 * 196.0 * (768 * 1024 + 1024 * 1024), f.freProjectors(), 1);
    // a 1024² image (16 patches) ≈ 2.1 TFLOPs
    assertEquals(2.10e12, f.perImage(16), 0.01e12);
    // the head and attention add a few tens of MFLOPs per image, no more
    assertEquals(0.0321e9, f.perImageBase(), 0.001e9);
  }

  @Test
  void onlyTheBlocksUpToTheLastIntermediateLayerCount() {
    SpaiConfig tiny = SpaiConfig.tiny();
    SpaiConfig shallow = new SpaiConfig(tiny.vit(), new SpaiConfig.Fre(64, java.util.List.of(0, 1), 16),
        tiny.sca(), tiny.head(), tiny.patch());
    double perBlock = 2 * (197.0 * 32 * 96 + 2 * 197.0 * 197 * 32 + 197.0 * 32 * 32 + 2 * 197.0 * 32 * 128);
    assertEquals(2 * perBlock, SpaiFlops.of(tiny).vitPass() - SpaiFlops.of(shallow).vitPass(), 1);
  }
}
