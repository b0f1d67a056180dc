package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.DType;
import io.semspai.engine.ModelOutput;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.fusion.ThresholdProfiles;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import io.semspai.semantic.ConvNextConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code model import} with the semantic branch: OpenCLIP-style checkpoints (zip with the text tower and the image
 * projection, safetensors, fp16, bf16) and Sem-SPAI training checkpoints, written from the tensors of a tiny random
 * Sem-SPAI bundle, import into bundles whose models give exactly that bundle's features and logits; the golden
 * PyTorch fixtures import and reproduce the reference's fused logits.
 */
class ConvNextImportTest {
  static final List<String> TINY_SPAI = List.of("vit.num_heads=2");
  /** The random head of the tiny preset: Sem-SPAI's 256 / 512 would not be the reference's head. */
  static final List<String> TINY_HEAD = List.of("vit.num_heads=2", "head.projection_dim=16", "head.fusion_dim=24");
  static final List<String> IMAGES = List.of("rgb_400x300.png", "small_180x150.png", "gray_450x230.png");

  @TempDir static Path shared;
  static SemSpaiCheckpoints.Fixture f;

  @TempDir Path tmp;

  @BeforeAll
  static void writeReference() throws IOException {
    f = SemSpaiCheckpoints.Fixture.write(shared);
  }

  static ModelImporter.Result importAll(Path spaiCkpt, Path convnext, Path headCkpt, List<String> settings, Path out,
      List<String> log) throws IOException {
    List<ModelImporter.Input> in = new ArrayList<>();
    in.add(new ModelImporter.Input(new SpaiImporter(), spaiCkpt));
    if (convnext != null) {
      in.add(new ModelImporter.Input(new ConvNextImporter(), convnext));
    }
    if (headCkpt != null) {
      in.add(new ModelImporter.Input(new HeadImporter(), headCkpt));
    }
    return ModelImporter.run(in, settings, SemSpaiCheckpoints.SEED, out, "imported", "0.1.0",
        log == null ? null : log::add);
  }

  static ModelImporter.ComponentReport report(ModelImporter.Result r, String component) {
    return r.components().stream().filter(c -> c.component().equals(component)).findFirst().orElseThrow();
  }

  /** Every image scored by both bundles gives bit-identical features and logits. */
  static void assertSameModel(Path expected, Path actual) throws IOException {
    try (SemSpaiModel a = SemSpaiModel.load(expected); SemSpaiModel b = SemSpaiModel.load(actual)) {
      assertEquals(SemSpaiModel.Mode.FUSION, b.mode());
      for (String file : IMAGES) {
        RgbImage img = ImageDecoder.decode(Files.readAllBytes(GoldenSpai.dir().resolve("images").resolve(file)));
        ModelOutput x = a.score(img);
        ModelOutput y = b.score(img);
        assertArrayEquals(x.semanticFeature(), y.semanticFeature(), file + " semantic feature");
        assertArrayEquals(x.spectralFeature(), y.spectralFeature(), file + " spectral feature");
        assertEquals(x.fusedLogit(), y.fusedLogit(), file + " fused logit");
      }
    }
  }

  @Test
  void openClipZipWithTheTextTowerImportsToTheSameModel() throws Exception {
    Path clip = f.trunkFile();
    ModelImporter.Result r = importAll(f.spaiFile(), clip, f.headFile(), TINY_SPAI, tmp.resolve("b"), null);
    assertEquals("fusion", r.mode());
    assertNull(r.randomHead());
    ModelImporter.ComponentReport c = report(r, "convnext");
    assertEquals("a bare state dict", c.selection());
    assertEquals(f.trunk().size(), c.tensorsWritten());
    assertEquals(SemSpaiCheckpoints.openClipExtras().keySet().stream().sorted().toList(),
        c.ignoredKeys().stream().sorted().toList(), "the rest of the CLIP model is skipped, counted");
    String decisions = String.join("\n", c.decisions());
    assertTrue(decisions.contains("depths = [1, 1, 2, 1]  (from the block keys stages.{i}.blocks.{j})"), decisions);
    assertTrue(decisions.contains("dims = [8, 16, 32, 64]  (from stages.{i}.blocks.0.conv_dw.weight)"), decisions);
    assertTrue(decisions.contains("stem.kernel = 4  (from visual.trunk.stem.0.weight)"), decisions);
    assertTrue(decisions.contains("stem.stride = 4  (= the stem kernel: timm's patchify stem)"), decisions);
    assertTrue(decisions.contains("dwconv.kernel = 7  (from visual.trunk.stages.0.blocks.0.conv_dw.weight)"),
        decisions);
    assertTrue(decisions.contains("mlp_ratio = 4  (from visual.trunk.stages.0.blocks.0.mlp.fc1.weight rows /"
        + " columns)"), decisions);
    assertTrue(decisions.contains("layer_norm_eps = 1.0E-5  (upstream preset)"), decisions);
    assertTrue(decisions.contains("input_size = 224  (upstream preset)"), decisions);

    BundleManifest m = ModelBundle.open(r.bundle()).manifest();
    ObjectMapper json = new ObjectMapper();
    assertEquals(ConvNextConfig.tiny(), json.treeToValue(m.component("convnext").architecture(),
        ConvNextConfig.class));
    assertEquals(FusionConfig.tiny(), json.treeToValue(m.component("head").architecture(), FusionConfig.class));
    assertEquals("open_clip_pytorch_model.bin", m.component("convnext").provenance().checkpoint());
    assertEquals(Safetensors.sha256Hex(clip), m.component("convnext").provenance().checkpointSha256());
    assertEquals("fusion", m.other().get("mode").asText());
    ThresholdProfiles t = ThresholdProfiles.fromJson(m.other().get("thresholds"));
    assertEquals(ThresholdProfiles.Score.FUSED, t.appliesTo());
    assertTrue(!t.calibrated());
    assertEquals(ModelImporter.THRESHOLDS_NOTE, t.note());
    assertEquals(List.of("spai", "convnext", "head"), List.copyOf(m.components().keySet()));
    assertSameModel(f.reference(), r.bundle());
  }

  @Test
  void withoutAHeadTheBundleGetsSemSpaisRandomInitOfIt() throws Exception {
    Path clip = f.trunkFile();
    ModelImporter.Result r = importAll(f.spaiFile(), clip, null, TINY_HEAD, tmp.resolve("b"), null);
    assertEquals(SemSpaiCheckpoints.SEED, r.randomHead().seed());
    String decisions = String.join("\n", r.randomHead().decisions());
    assertTrue(decisions.contains("spectral_dim = 88  (from the SPAI feature)"), decisions);
    assertTrue(decisions.contains("semantic_dim = 64  (from the ConvNeXt feature)"), decisions);
    assertTrue(decisions.contains("projection_dim = 16  (--set)"), decisions);
    BundleManifest m = ModelBundle.open(r.bundle()).manifest();
    assertEquals(BundleManifest.Provenance.randomInit(SemSpaiCheckpoints.SEED), m.component("head").provenance());
    assertEquals(f.head().keySet(), SemSpaiCheckpoints.tensors(r.bundle(), "head.safetensors").keySet());
    // the same head writeRandom draws for the same seed, so the model is the reference's
    assertSameModel(f.reference(), r.bundle());

    // Sem-SPAI's own sizes when nothing is set
    ModelImporter.Result full = importAll(f.spaiFile(), clip, null, TINY_SPAI, tmp.resolve("c"), null);
    assertEquals(new FusionConfig(88, 64, 256, 512, 1e-5), new ObjectMapper().treeToValue(
        ModelBundle.open(full.bundle()).manifest().component("head").architecture(), FusionConfig.class));
  }

  @Test
  void safetensorsAndZipGiveTheSameWeightFile() throws Exception {
    Path clip = f.trunkFile();
    Path st = SemSpaiCheckpoints.safetensors(tmp.resolve("open_clip_model.safetensors"),
        SemSpaiCheckpoints.openClip(f.trunk()), Safetensors.DType.F32);
    Path a = importAll(f.spaiFile(), clip, f.headFile(), TINY_SPAI, tmp.resolve("a"), null).bundle();
    ModelImporter.Result b = importAll(f.spaiFile(), st, f.headFile(), TINY_SPAI, tmp.resolve("b"), null);
    assertEquals(WeightSource.Format.SAFETENSORS, report(b, "convnext").format());
    assertEquals(ModelBundle.open(a).manifest().component("convnext").sha256(),
        ModelBundle.open(b.bundle()).manifest().component("convnext").sha256());
  }

  @Test
  void fp16AndBf16SourcesWidenExactly() throws Exception {
    Path fp16 = GoldenSpai.writeBare(tmp.resolve("clip_fp16.bin"), SemSpaiCheckpoints.openClip(f.trunk()),
        DType.F16);
    Path bf16 = SemSpaiCheckpoints.safetensors(tmp.resolve("clip_bf16.safetensors"),
        SemSpaiCheckpoints.openClip(f.trunk()), Safetensors.DType.BF16);
    for (Object[] c : new Object[][] {{fp16, DType.F16, "F16"}, {bf16, DType.BF16, "BF16"}}) {
      Path out = tmp.resolve("b-" + c[2]);
      ModelImporter.Result r = importAll(f.spaiFile(), (Path) c[0], f.headFile(), TINY_SPAI, out, null);
      assertEquals(Map.of((String) c[2], f.trunk().size()), report(r, "convnext").sourceDtypes());
      Map<String, GoldenSpai.Tensor> got = SemSpaiCheckpoints.tensors(out, "convnext.safetensors");
      int moved = 0;
      for (Map.Entry<String, GoldenSpai.Tensor> e : f.trunk().entrySet()) {
        float[] want = e.getValue().floats().clone();
        for (int i = 0; i < want.length; i++) {
          float w = SemSpaiCheckpoints.roundTrip(want[i], (DType) c[1]);
          moved += w != want[i] ? 1 : 0;
          want[i] = w;
        }
        assertArrayEquals(want, got.get(e.getKey()).floats(), c[2] + " " + e.getKey());
      }
      assertTrue(moved > 1000, c[2] + " rounding should change values: " + moved);
    }
  }

  @Test
  void oneSemSpaiCheckpointHoldsAllThreeAndIsReadAndHashedOnce() throws Exception {
    Path ckpt = SemSpaiCheckpoints.semSpai(tmp.resolve("ckpt_epoch_6.pth"), f.spai(), f.trunk(), f.head());
    List<String> log = new ArrayList<>();
    ModelImporter.Result r = importAll(ckpt, ckpt, ckpt, TINY_SPAI, tmp.resolve("b"), log);
    assertEquals(1, log.stream().filter(l -> l.startsWith("sha256 of ")).count(), log.toString());
    ModelImporter.ComponentReport c = report(r, "convnext");
    assertEquals("a training checkpoint, weights under 'model'", c.selection());
    assertEquals(List.of("optimizer", "max_accuracy", "epoch", "config"), c.otherEntries());
    assertEquals(f.spai().size() + f.head().size(), c.ignoredKeys().size(),
        "SPAI and the head are skipped by --convnext");
    ModelImporter.ComponentReport h = report(r, "head");
    assertEquals(f.spai().size() + f.trunk().size(), h.ignoredKeys().size(), "the backbones are skipped by --head");
    String hd = String.join("\n", h.decisions());
    assertTrue(hd.contains("spectral_dim = 88  (from fusion_layer.0.weight columns − projection_dim)"), hd);
    assertTrue(hd.contains("fusion_dim = 24  (from fusion_layer.0.weight)"), hd);
    for (String comp : List.of("spai", "convnext", "head")) {
      assertEquals(Safetensors.sha256Hex(ckpt), ModelBundle.open(r.bundle()).manifest().component(comp).provenance()
          .checkpointSha256());
    }
    assertSameModel(f.reference(), r.bundle());
  }

  /** The PyTorch reference's own fixtures: spai.pth, OpenCLIP's .bin layout and the head, through the importer. */
  @Test
  void goldenFixturesImportAndReproduceTheReferencesFusedLogits() throws Exception {
    Path semantic = GoldenSpai.dir().resolveSibling("semantic");
    ModelImporter.Result r = importAll(GoldenSpai.dir().resolve("spai.pth"),
        semantic.resolve("open_clip_pytorch_model.bin"), semantic.resolve("head.safetensors"), TINY_SPAI,
        tmp.resolve("b"), null);
    assertTrue(report(r, "convnext").ignoredKeys().contains("visual.head.proj.weight"));
    JsonNode expected = new ObjectMapper().readTree(semantic.resolve("expected.json").toFile());
    double dLogit = 0;
    double dSem = 0;
    try (SemSpaiModel model = SemSpaiModel.load(r.bundle())) {
      for (JsonNode img : expected.get("images")) {
        ModelOutput o = model.score(ImageDecoder.decode(Files.readAllBytes(GoldenSpai.dir().resolve("images")
            .resolve(img.get("file").asText()))));
        dLogit = Math.max(dLogit, Math.abs(img.get("fused_logit").asDouble() - o.fusedLogit()));
        JsonNode sem = img.get("semantic_feature");
        for (int i = 0; i < sem.size(); i++) {
          dSem = Math.max(dSem, Math.abs(sem.get(i).asDouble() - o.semanticFeature()[i]));
        }
      }
    }
    System.out.printf(Locale.ROOT, "golden import: fused logit max |Δ| %.3g, semantic feature %.3g%n", dLogit, dSem);
    assertTrue(dLogit <= 1e-4, "fused logit " + dLogit);
    assertTrue(dSem <= 1e-5, "semantic feature " + dSem);
  }
}
