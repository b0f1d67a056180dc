package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportCommandTest {
  /** The golden fixtures live in the common module; Maven runs each module's tests from its own directory. */
  static final Path GOLDEN = Path.of("..", "common", "src", "test", "resources", "golden", "spai").toAbsolutePath()
      .normalize();

  @TempDir Path tmp;

  @Test
  void importsTheGoldenTrainingCheckpointAndSaysWhatItDid() {
    Path out = tmp.resolve("bundle");
    SpaiCommandsTest.Run r = SpaiCommandsTest.run("model", "import", "--spai", GOLDEN.resolve("spai.pth").toString(),
        "--set", "vit.heads=2", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    String o = r.out();
    assertTrue(o.contains("--spai " + GOLDEN.resolve("spai.pth") + ": torch.save zip, a training checkpoint, weights"
        + " under 'model', 140 tensors"), o);
    assertTrue(o.contains("spai: ViT 224 px / patch 16, width 32, depth 4, 2 heads, MLP ×4; FRE 4 layers → 64;"
        + " SCA 48 / 4 heads; head ×3; feature 88"), o);
    assertTrue(o.contains("  vit.num_heads = 2  (--set)"), o);
    assertTrue(o.contains("  not read (training state): optimizer, lr_scheduler, max_accuracy, epoch, config"), o);
    assertTrue(o.contains("  ignored, unused by the forward: 27 tensors [mfvit.vit.cls_pos_embed,"
        + " mfvit.vit.actual_cls_token, mfvit.vit.fc_norm.* (2), mfvit.vit.cls_blocks.* (13),"
        + " mfvit.vit.intermediate_fc_norm.* (8), mfvit.vit.head.* (2)]"), o);
    assertTrue(o.contains("  converted 113 tensors {F32=112, I64=1} to float32 (int64 kept)"), o);
    assertTrue(o.contains("wrote " + out.toAbsolutePath() + ": spai 0.1.0 in "), o);

    SpaiCommandsTest.Run info = SpaiCommandsTest.run("model", "info", out.toString(), "--verify");
    assertEquals(0, info.exit(), info.err());
    assertTrue(info.out().contains("\"checkpoint\" : \"spai.pth\""), info.out());
    assertTrue(info.out().contains("verified: spai (spai.safetensors, sha256 ok)"), info.out());
  }

  @Test
  void convnextAndHeadAreRefusedUntilTheSemanticBranchExists() {
    Path out = tmp.resolve("bundle");
    for (String option : new String[] {"--convnext", "--head"}) {
      SpaiCommandsTest.Run r = SpaiCommandsTest.run("model", "import", "--spai", GOLDEN.resolve("spai.pth").toString(),
          option, GOLDEN.resolve("weights.safetensors").toString(), "--out", out.toString());
      assertEquals(2, r.exit());
      assertEquals("error: " + option + " needs the semantic branch (the ConvNeXt-XXL trunk and the fusion head),"
          + " which this build does not have yet; nothing was written. Import SPAI alone with --spai for now.",
          r.err().strip());
      assertFalse(Files.exists(out));
    }
  }

  @Test
  void refusalsAreOneLineWithExitCodeTwo() {
    Path out = tmp.resolve("bundle");
    SpaiCommandsTest.Run none = SpaiCommandsTest.run("model", "import", "--out", out.toString());
    assertEquals(2, none.exit());
    assertEquals("error: nothing to import: give --spai FILE", none.err().strip());

    SpaiCommandsTest.Run heads = SpaiCommandsTest.run("model", "import", "--spai",
        GOLDEN.resolve("weights.safetensors").toString(), "--out", out.toString());
    assertEquals(2, heads.exit());
    assertTrue(heads.err().strip().startsWith("error: --spai: the ViT's width 32 is not a multiple of the preset's 12"
        + " heads"), heads.err());

    SpaiCommandsTest.Run bad = SpaiCommandsTest.run("model", "import", "--spai",
        GOLDEN.resolve("weights.safetensors").toString(), "--set", "vit.num_heads=2", "--model-version", "one",
        "--out", out.toString());
    assertEquals(2, bad.exit());
    assertEquals("error: version 'one' is not a semantic version (like 1.0.0)", bad.err().strip());
    assertFalse(Files.exists(out));
  }
}
