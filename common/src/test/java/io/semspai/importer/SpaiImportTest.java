package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.DType;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Round trips through {@code model import}: the golden SPAI fixtures in every form the reference wrote them
 * (training checkpoint, bare fp16 state dict, bf16 and fp32 safetensors) import into bundles that reproduce the
 * reference's outputs, fp32 within 1e-4 and half precision within the drift the reference measured for it.
 */
class SpaiImportTest {
  static final double TOL = 1e-4;

  @TempDir Path tmp;

  static ModelImporter.Result importSpai(Path file, Path out, List<String> settings) throws IOException {
    return ModelImporter.run(List.of(new ModelImporter.Input(new SpaiImporter(), file)), settings, out, "test",
        "0.1.0", null);
  }

  @Test
  void trainingCheckpointReproducesTheGoldenOutputs() throws Exception {
    Path file = GoldenSpai.dir().resolve("spai.pth");
    ModelImporter.Result r = importSpai(file, tmp.resolve("b"), GoldenSpai.tinySettings());
    ModelImporter.ComponentReport c = r.components().get(0);
    assertEquals("a training checkpoint, weights under 'model'", c.selection());
    assertEquals(List.of("optimizer", "lr_scheduler", "max_accuracy", "epoch", "config"), c.otherEntries());
    assertEquals(Map.of("F32", c.tensorsWritten() - 1, "I64", 1), c.sourceDtypes());
    assertTrue(c.ignoredKeys().contains("mfvit.vit.head.weight") && c.ignoredKeys().contains("mfvit.vit.cls_pos_embed"),
        c.ignoredKeys().toString());

    BundleManifest.Component m = ModelBundle.open(r.bundle()).manifest().component("spai");
    assertEquals("spai.pth", m.provenance().checkpoint());
    assertEquals(Safetensors.sha256Hex(file), m.provenance().checkpointSha256());
    assertEquals("upstream checkpoint spai.pth", m.provenance().source());
    assertEquals(SpaiConfig.tiny(), SpaiConfig.fromJson(m.architecture().toString()));
    assertEquals("native", m.setting("input_policy", null));

    double[] drift = GoldenSpai.maxDrift(r.bundle());
    System.out.printf(Locale.ROOT, "import spai.pth: max |Δ| logit %.3g, image feature %.3g, patch features %.3g%n",
        drift[0], drift[1], drift[2]);
    assertTrue(drift[0] <= TOL && drift[1] <= TOL && drift[2] <= TOL, java.util.Arrays.toString(drift));
  }

  @Test
  void fp32SafetensorsGiveTheSameBundleBytesAsTheTrainingCheckpoint() throws Exception {
    Path a = importSpai(GoldenSpai.dir().resolve("spai.pth"), tmp.resolve("a"), GoldenSpai.tinySettings()).bundle();
    Path b = importSpai(GoldenSpai.dir().resolve("weights.safetensors"), tmp.resolve("b"), GoldenSpai.tinySettings())
        .bundle();
    String sa = ModelBundle.open(a).manifest().component("spai").sha256();
    String sb = ModelBundle.open(b).manifest().component("spai").sha256();
    assertEquals(sa, sb, "the same fp32 weights, whatever the container, give the same weight file");
    double[] drift = GoldenSpai.maxDrift(b);
    assertTrue(drift[0] <= TOL && drift[1] <= TOL, java.util.Arrays.toString(drift));
  }

  @Test
  void fp16BareStateDictStaysWithinTheReferencesFp16Drift() throws Exception {
    ModelImporter.Result r = importSpai(GoldenSpai.dir().resolve("spai_bare_fp16.pth"), tmp.resolve("b"),
        GoldenSpai.tinySettings());
    ModelImporter.ComponentReport c = r.components().get(0);
    assertEquals("a bare state dict", c.selection());
    assertEquals(Map.of("F16", c.tensorsWritten() - 1, "I64", 1), c.sourceDtypes());
    assertDrift(r.bundle(), GoldenSpai.json("tolerances.json").get("fp16_weights_in_fp32"), "fp16");
  }

  @Test
  void bf16SafetensorsStayWithinTheReferencesBf16Drift() throws Exception {
    ModelImporter.Result r = importSpai(GoldenSpai.dir().resolve("spai_bf16.safetensors"), tmp.resolve("b"),
        GoldenSpai.tinySettings());
    assertEquals(WeightSource.Format.SAFETENSORS, r.components().get(0).format());
    assertEquals(Map.of("BF16", r.components().get(0).tensorsWritten() - 1, "I64", 1),
        r.components().get(0).sourceDtypes());
    assertDrift(r.bundle(), GoldenSpai.json("tolerances.json").get("bf16_weights_in_fp32"), "bf16");
  }

  private static void assertDrift(Path bundle, JsonNode measured, String what) throws IOException {
    double[] drift = GoldenSpai.maxDrift(bundle);
    System.out.printf(Locale.ROOT, "import %s: max |Δ| logit %.3g (reference drift %.3g), image feature %.3g (%.3g)%n",
        what, drift[0], measured.get("logit").asDouble(), drift[1], measured.get("image_feature").asDouble());
    assertTrue(drift[0] <= measured.get("logit").asDouble() + TOL, what + " logit " + drift[0]);
    assertTrue(drift[1] <= measured.get("image_feature").asDouble() + TOL, what + " feature " + drift[1]);
    assertTrue(drift[2] <= measured.get("patch_features").asDouble() + TOL, what + " patch " + drift[2]);
    assertTrue(drift[0] > 1e-5, what + " rounding should move the logits at all: " + drift[0]);
  }

  @Test
  void sizesComeFromShapesAndTheHeadCountFromSet() throws Exception {
    Map<String, SourceTensor> tensors;
    try (WeightSource src = WeightSource.open(GoldenSpai.dir().resolve("weights.safetensors"))) {
      tensors = new SpaiImporter().select(src);
      ComponentImporter.Plan plan = new SpaiImporter().plan(tensors, Map.of("vit.num_heads", "2"));
      String decisions = String.join("\n", plan.decisions());
      assertTrue(decisions.contains("vit.embed_dim = 32  (from mfvit.vit.patch_embed.proj.weight)"), decisions);
      assertTrue(decisions.contains("vit.depth = 4  (from the block keys)"), decisions);
      assertTrue(decisions.contains("vit.num_heads = 2  (--set)"), decisions);
      assertTrue(decisions.contains("vit.layer_norm_eps = 1.0E-6  (upstream preset)"), decisions);
      assertTrue(decisions.contains("fre.masking_radius = 16  (from the values of mfvit.frequencies_mask)"), decisions);
      assertTrue(decisions.contains("fre.intermediate_layers = 0..3  (4 projectors for 4 blocks"), decisions);
      assertTrue(decisions.contains("sca.num_heads = 4  (from patch_aggregator)"), decisions);
      assertTrue(decisions.contains("head.mlp_ratio = 3  (from cls_head.head.0.weight: 264 / 88)"), decisions);
      assertEquals(SpaiConfig.tiny(), SpaiImporter.config(plan));

      ImportException e = assertThrows(ImportException.class, () -> new SpaiImporter().plan(src.tensors(), Map.of()));
      assertEquals("--spai: the ViT's width 32 is not a multiple of the preset's 12 heads, and the head count shows"
          + " in no tensor's shape; pass it with --set vit.num_heads=N (upstream's MODEL.VIT.NUM_HEADS)",
          e.getMessage());
    }
  }

  @Test
  void finalNormsOfAMeanPoolingFreeVitAreIgnored() throws Exception {
    Map<String, GoldenSpai.Tensor> sd = GoldenSpai.edited(m -> {
      for (String n : List.of("mfvit.vit.norm", "mfvit.vit.cls_norm")) {
        m.put(n + ".weight", new GoldenSpai.Tensor(new long[] {32}, new float[32], null));
        m.put(n + ".bias", new GoldenSpai.Tensor(new long[] {32}, new float[32], null));
      }
      return m;
    });
    Path file = GoldenSpai.writeBare(tmp.resolve("with_norm.pth"), sd, DType.F32);
    ModelImporter.Result r = importSpai(file, tmp.resolve("b"), GoldenSpai.tinySettings());
    assertTrue(r.components().get(0).ignoredKeys().containsAll(List.of("mfvit.vit.norm.weight",
        "mfvit.vit.norm.bias", "mfvit.vit.cls_norm.weight", "mfvit.vit.cls_norm.bias")));
    try (SpaiModel model = SpaiModel.load(r.bundle())) {
      assertEquals(SpaiConfig.tiny(), model.config());
    }
  }

  @Test
  void aDataParallelPrefixIsStripped() throws Exception {
    Map<String, GoldenSpai.Tensor> sd = new java.util.LinkedHashMap<>();
    GoldenSpai.stateDict().forEach((k, v) -> sd.put("module." + k, v));
    Path file = GoldenSpai.writeBare(tmp.resolve("ddp.pth"), sd, DType.F32);
    Path a = importSpai(file, tmp.resolve("a"), GoldenSpai.tinySettings()).bundle();
    Path b = importSpai(GoldenSpai.dir().resolve("weights.safetensors"), tmp.resolve("b"), GoldenSpai.tinySettings())
        .bundle();
    assertEquals(ModelBundle.open(b).manifest().component("spai").sha256(),
        ModelBundle.open(a).manifest().component("spai").sha256());
  }

  static void assertNothingWritten(Path parent) throws IOException {
    try (Stream<Path> s = Files.list(parent)) {
      List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("out")
          || n.startsWith(".out")).toList();
      assertEquals(List.of(), left, "no bundle and no partial directory left behind");
    }
  }

  @Test
  void overridesAreValidated() throws Exception {
    Path golden = GoldenSpai.dir().resolve("weights.safetensors");
    Path out = tmp.resolve("out");
    String unknown = assertThrows(ImportException.class, () -> importSpai(golden, out,
        List.of("vit.hedas=2"))).getMessage();
    assertTrue(unknown.startsWith("unknown --set key 'vit.hedas'; --spai takes vit.img_size, vit.patch_size,"), unknown);
    assertEquals("--set vit.num_heads=two: not a non-negative integer", assertThrows(ImportException.class,
        () -> importSpai(golden, out, List.of("vit.heads=two"))).getMessage());
    assertEquals("--set vit.layer_norm_eps=-1: not a positive number", assertThrows(ImportException.class,
        () -> importSpai(golden, out, List.of("vit.num_heads=2", "spai.vit.layer_norm_eps=-1"))).getMessage());
    assertEquals("--set novalue: expected key=value, e.g. --set vit.num_heads=12", assertThrows(ImportException.class,
        () -> importSpai(golden, out, List.of("novalue"))).getMessage());
    assertEquals("--set vit.num_heads is given twice", assertThrows(ImportException.class,
        () -> importSpai(golden, out, List.of("vit.num_heads=2", "vit.heads=2"))).getMessage());
    String invalid = assertThrows(ImportException.class, () -> importSpai(golden, out,
        List.of("vit.num_heads=5"))).getMessage();
    assertTrue(invalid.startsWith("--spai: these sizes make no valid SPAI model (invalid SPAI config: vit.embed_dim 32"
        + " must be a positive multiple of vit.num_heads 5)"), invalid);
    String layers = assertThrows(ImportException.class, () -> importSpai(golden, out,
        List.of("vit.num_heads=2", "fre.intermediate_layers=0,x"))).getMessage();
    assertEquals("--set fre.intermediate_layers=0,x: expected block indices like 0,4,8,11 or a range like 0..11",
        layers);
    assertNothingWritten(tmp);
  }

  @Test
  void anOverrideThatContradictsTheShapesIsReportedAsWrongShapes() throws Exception {
    Path golden = GoldenSpai.dir().resolve("weights.safetensors");
    String msg = assertThrows(ImportException.class, () -> importSpai(golden, tmp.resolve("out"),
        List.of("vit.num_heads=2", "vit.mlp_ratio=2"))).getMessage();
    assertTrue(msg.startsWith("--spai " + golden + ": the weights do not match the spai model their shapes describe ("
        + "ViT 224 px / patch 16, width 32, depth 4, 2 heads, MLP ×2;"), msg);
    assertTrue(msg.contains(": 12 wrong shapes [mfvit.vit.blocks.0.mlp.fc1.weight is (128, 32), expected (64, 32),"),
        msg);
    assertNothingWritten(tmp);
  }
}
