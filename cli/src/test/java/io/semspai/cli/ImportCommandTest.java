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
  static final Path SEMANTIC = GOLDEN.resolveSibling("semantic");

  @TempDir Path tmp;

  @Test
  void importsTheGoldenTrainingCheckpointAndSaysWhatItDid() {
    Path out = tmp.resolve("bundle");
    CliRun r = CliRun.of("model", "import", "--spai", GOLDEN.resolve("spai.pth").toString(),
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

    CliRun info = CliRun.of("model", "info", out.toString(), "--verify");
    assertEquals(0, info.exit(), info.err());
    assertTrue(info.out().contains("\"checkpoint\" : \"spai.pth\""), info.out());
    assertTrue(info.out().contains("verified: spai (spai.safetensors, sha256 ok)"), info.out());
  }

  @Test
  void importsTheGoldenSemSpaiFixturesIntoAFusionBundle() {
    Path out = tmp.resolve("bundle");
    Path clip = SEMANTIC.resolve("open_clip_pytorch_model.bin");
    CliRun r = CliRun.of("model", "import", "--spai", GOLDEN.resolve("spai.pth").toString(),
        "--convnext", clip.toString(), "--head", SEMANTIC.resolve("head.safetensors").toString(), "--set",
        "vit.heads=2", "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    String o = r.out();
    assertTrue(o.contains("--convnext " + clip + ": torch.save zip, a bare state dict, 67 tensors"), o);
    assertTrue(o.contains("convnext: ConvNeXt depths [1, 1, 2, 1], dims [8, 16, 32, 64], stem 4/4, dw 7, MLP ×4,"
        + " eps 1.0E-5, input 224 px; feature 64"), o);
    assertTrue(o.contains("  layer_norm_eps = 1.0E-5  (upstream preset)"), o);
    assertTrue(o.contains("  ignored, unused by the forward: 4 tensors ["), o);
    assertTrue(o.contains("head: projection 64 → 16; fusion 88 + 16 → 24; classifier 88 + 24 → 24 → 1; eps 1.0E-5"),
        o);
    assertTrue(o.contains("mode fusion; thresholds 0.5 / 0.5 placeholders: imported, not calibrated: run"
        + " eval/train-head to calibrate"), o);
    assertFalse(o.contains("UNTRAINED"), o);

    CliRun info = CliRun.of("model", "info", out.toString(), "--verify");
    assertEquals(0, info.exit(), info.err());
    assertTrue(info.out().contains("verified: convnext (convnext.safetensors, sha256 ok)"), info.out());
    assertTrue(info.out().contains("verified: head (head.safetensors, sha256 ok)"), info.out());
  }

  @Test
  void withoutAHeadTheBundleGetsAnUntrainedHeadAndSaysSoLoudly() {
    Path out = tmp.resolve("bundle");
    CliRun r = CliRun.of("model", "import", "--spai", GOLDEN.resolve("spai.pth").toString(),
        "--convnext", SEMANTIC.resolve("convnext.safetensors").toString(), "--head-seed", "9", "--set", "vit.heads=2",
        "--out", out.toString());
    assertEquals(0, r.exit(), r.err());
    String o = r.out();
    assertTrue(o.contains("head: projection 64 → 256; fusion 88 + 256 → 512; classifier 88 + 512 → 512 → 1;"), o);
    assertTrue(o.contains("  head.safetensors (") && o.contains("Sem-SPAI's random init, seed 9: no --head was given"),
        o);
    assertTrue(o.contains("WARNING: the fusion head is UNTRAINED (random init): fused scores mean nothing until it is"
        + " trained. Train it with `semspai train-head` or the trainer service"), o);
    CliRun info = CliRun.of("model", "info", out.toString(), "--verify");
    assertEquals(0, info.exit(), info.err());
    assertTrue(info.out().contains("random-init, seed 9"), info.out());
  }

  @Test
  void theSemanticBranchWithoutSpaiIsRefused() {
    Path out = tmp.resolve("bundle");
    for (String option : new String[] {"--convnext", "--head"}) {
      CliRun r = CliRun.of("model", "import", option,
          SEMANTIC.resolve("convnext.safetensors").toString(), "--out", out.toString());
      assertEquals(2, r.exit());
      assertEquals("error: " + option + " needs --spai too: every bundle holds SPAI, which the semantic branch and the"
          + " fusion head add to; give --spai FILE (spai.pth, or the same Sem-SPAI checkpoint); nothing was written",
          r.err().strip());
      assertFalse(Files.exists(out));
    }
    CliRun wrong = CliRun.of("model", "import", "--spai",
        SEMANTIC.resolve("convnext.safetensors").toString(), "--set", "vit.heads=2", "--out", out.toString());
    assertEquals(2, wrong.exit());
    assertTrue(wrong.err().contains("these look like OpenCLIP ConvNeXt weights (visual.trunk.*): pass that file with"
        + " --convnext"), wrong.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void refusalsAreOneLineWithExitCodeTwo() {
    Path out = tmp.resolve("bundle");
    CliRun none = CliRun.of("model", "import", "--out", out.toString());
    assertEquals(2, none.exit());
    assertEquals("error: nothing to import: give --spai FILE (and --convnext FILE for a Sem-SPAI bundle)",
        none.err().strip());

    CliRun heads = CliRun.of("model", "import", "--spai",
        GOLDEN.resolve("weights.safetensors").toString(), "--out", out.toString());
    assertEquals(2, heads.exit());
    assertTrue(heads.err().strip().startsWith("error: --spai: the ViT's width 32 is not a multiple of the preset's 12"
        + " heads"), heads.err());

    CliRun bad = CliRun.of("model", "import", "--spai",
        GOLDEN.resolve("weights.safetensors").toString(), "--set", "vit.num_heads=2", "--model-version", "one",
        "--out", out.toString());
    assertEquals(2, bad.exit());
    assertEquals("error: version 'one' is not a semantic version (like 1.0.0)", bad.err().strip());
    assertFalse(Files.exists(out));
  }
}
