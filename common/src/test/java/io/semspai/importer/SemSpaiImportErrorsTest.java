package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.DType;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.FusionHead;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each way a ConvNeXt or head import can fail has its own message naming the option and the file, and none leaves a
 * bundle or a partial directory behind.
 */
class SemSpaiImportErrorsTest {
  static final String TRUNK_SUMMARY = "ConvNeXt depths [1, 1, 2, 1], dims [8, 16, 32, 64], stem 4/4, dw 7, MLP ×4,"
      + " eps 1.0E-5, input 224 px; feature 64";
  static final String HEAD_SUMMARY = "projection 64 → 16; fusion 88 + 16 → 24; classifier 88 + 24 → 24 → 1;"
      + " eps 1.0E-5";

  @TempDir static Path shared;
  static Path spai;
  static Map<String, GoldenSpai.Tensor> trunk;
  static Map<String, GoldenSpai.Tensor> head;
  static Path goodTrunk;
  static Path goodHead;

  @TempDir Path tmp;

  @BeforeAll
  static void fixtures() throws IOException {
    SemSpaiCheckpoints.Fixture f = SemSpaiCheckpoints.Fixture.write(shared);
    spai = f.spaiFile();
    trunk = f.trunk();
    head = f.head();
    goodTrunk = f.trunkFile();
    goodHead = f.headFile();
  }

  private String fails(Path spaiFile, Path convnext, Path headFile, List<String> settings) {
    String msg = assertThrows(ImportException.class, () -> ConvNextImportTest.importAll(spaiFile, convnext, headFile,
        settings, tmp.resolve("out"), null)).getMessage();
    try {
      SpaiImportTest.assertNothingWritten(tmp);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return msg;
  }

  private String failsConvnext(Map<String, GoldenSpai.Tensor> sd) throws IOException {
    Path file = GoldenSpai.writeBare(tmp.resolve("bad_clip.bin"), sd, DType.F32);
    String msg = fails(spai, file, goodHead, ConvNextImportTest.TINY_SPAI);
    assertTrue(msg.startsWith("--convnext " + file + ": "), msg);
    return msg.substring(("--convnext " + file + ": ").length());
  }

  private String failsHead(Map<String, GoldenSpai.Tensor> sd) throws IOException {
    Path file = SemSpaiCheckpoints.safetensors(tmp.resolve("bad_head.safetensors"), sd, Safetensors.DType.F32);
    String msg = fails(spai, goodTrunk, file, ConvNextImportTest.TINY_SPAI);
    assertTrue(msg.startsWith("--head " + file + ": "), msg);
    return msg.substring(("--head " + file + ": ").length());
  }

  @Test
  void trunkMissingAndUnexpectedKeys() throws Exception {
    String gamma = "visual.trunk.stages.1.blocks.0.gamma";
    Map<String, GoldenSpai.Tensor> sd = new LinkedHashMap<>();
    SemSpaiCheckpoints.openClip(trunk).forEach((k, v) -> sd.put(k.equals(gamma)
        ? "visual.trunk.stages.1.blocks.0.ls.gamma" : k, v));
    assertEquals("the layer scale is saved as ls.gamma (a newer timm layout); OpenCLIP's convnext_xxlarge saves it"
        + " as blocks.{j}.gamma. In detail, the weights do not match the convnext model their shapes describe ("
        + TRUNK_SUMMARY + "): 1 missing key [" + gamma + "]; 1 unexpected key [visual.trunk.stages.1.blocks.0.ls"
        + ".gamma]", failsConvnext(sd));
  }

  @Test
  void trunkWrongShape() throws Exception {
    String fc2 = "visual.trunk.stages.2.blocks.1.mlp.fc2.weight";
    Map<String, GoldenSpai.Tensor> sd = new LinkedHashMap<>(SemSpaiCheckpoints.openClip(trunk));
    sd.put(fc2, SemSpaiCheckpoints.filled(new long[] {32, 96}, 0.1f));
    assertEquals("the weights do not match the convnext model their shapes describe (" + TRUNK_SUMMARY + "): 1 wrong"
        + " shape [" + fc2 + " is (32, 96), expected (32, 128)]", failsConvnext(sd));
  }

  @Test
  void spaiWeightsGivenAsConvnextSayWhereTheyBelong() throws Exception {
    String msg = fails(spai, spai, goodHead, ConvNextImportTest.TINY_SPAI);
    assertTrue(msg.startsWith("--convnext " + spai + ": these look like SPAI weights (mfvit.*): pass that file with"
        + " --spai. In detail, the weights do not match the convnext model their shapes describe (ConvNeXt depths"
        + " [3, 4, 30, 3], dims [384, 768, 1536, 3072]"), msg);
    assertTrue(msg.contains(" missing keys [visual.trunk.stem.0.weight,"), msg);
  }

  @Test
  void aHeadGivenAsConvnextSaysWhereItBelongs() throws Exception {
    String msg = fails(spai, goodHead, goodHead, ConvNextImportTest.TINY_SPAI);
    assertTrue(msg.startsWith("--convnext " + goodHead + ": these look like a Sem-SPAI fusion head"
        + " (semantic_projection.*, fusion_layer.*, classifier.*): pass that file with --head. In detail,"), msg);
  }

  @Test
  void headMissingUnexpectedAndWrongShapes() throws Exception {
    Map<String, GoldenSpai.Tensor> sd = new LinkedHashMap<>(head);
    sd.remove("classifier.3.bias");
    sd.put("classifier.5.weight", SemSpaiCheckpoints.filled(new long[] {1, 24}, 0f));
    sd.put("classifier.0.bias", SemSpaiCheckpoints.filled(new long[] {20}, 0f));
    assertEquals("the weights do not match the head model their shapes describe (" + HEAD_SUMMARY + "): 1 missing key"
        + " [classifier.3.bias]; 1 unexpected key [classifier.5.weight]; 1 wrong shape [classifier.0.bias is (20),"
        + " expected (24)]", failsHead(sd));
  }

  @Test
  void aConvnextFileGivenAsHeadSaysWhereItBelongs() throws Exception {
    String msg = fails(spai, goodTrunk, goodTrunk, ConvNextImportTest.TINY_SPAI);
    assertTrue(msg.startsWith("--head " + goodTrunk + ": these look like ConvNeXt trunk weights (visual.trunk.*): pass"
        + " that file with --convnext. In detail, the weights do not match the head model"), msg);
  }

  @Test
  void aHeadTrainedOnOtherBackbonesDoesNotFit() throws Exception {
    FusionConfig other = new FusionConfig(88, 32, 16, 24, 1e-5);
    Map<String, GoldenSpai.Tensor> sd = new LinkedHashMap<>();
    FusionHead.initialState(other, 1).forEach((k, v) -> sd.put(k, new GoldenSpai.Tensor(
        new FusionHead(other).stateShapes().get(k).getShape(), v, null)));
    Path file = SemSpaiCheckpoints.safetensors(tmp.resolve("other_head.safetensors"), sd, Safetensors.DType.F32);
    assertEquals("--head " + file + ": the head takes 88 spectral and 32 semantic features, but --spai gives 88 and"
        + " --convnext gives 64; the head was trained on other backbones (or the files are mixed up); nothing was"
        + " written", fails(spai, goodTrunk, file, ConvNextImportTest.TINY_SPAI));
  }

  @Test
  void theSemanticBranchNeedsSpaiAndTheHeadNeedsTheTrunk() throws Exception {
    List<ModelImporter.Input> convnextOnly = List.of(new ModelImporter.Input(new ConvNextImporter(), goodTrunk));
    assertEquals("--convnext needs --spai too: every bundle holds SPAI, which the semantic branch and the fusion head"
        + " add to; give --spai FILE (spai.pth, or the same Sem-SPAI checkpoint); nothing was written",
        assertThrows(ImportException.class, () -> ModelImporter.run(convnextOnly, List.of(), tmp.resolve("out"),
            "x", "0.1.0", null)).getMessage());
    List<ModelImporter.Input> noTrunk = List.of(new ModelImporter.Input(new SpaiImporter(), spai),
        new ModelImporter.Input(new HeadImporter(), goodHead));
    assertEquals("--head needs --convnext too: the fusion head runs on the ConvNeXt trunk's features; give --convnext"
        + " FILE (open_clip_pytorch_model.bin, or the same Sem-SPAI checkpoint); nothing was written",
        assertThrows(ImportException.class, () -> ModelImporter.run(noTrunk, ConvNextImportTest.TINY_SPAI,
            tmp.resolve("out"), "x", "0.1.0", null)).getMessage());
    SpaiImportTest.assertNothingWritten(tmp);
  }

  @Test
  void settingsOfTheSemanticBranchAreRoutedAndValidated() throws Exception {
    assertEquals("--set layer_norm_eps is ambiguous: convnext and head both take it; write convnext.layer_norm_eps or"
        + " head.layer_norm_eps", fails(spai, goodTrunk, goodHead, List.of("vit.num_heads=2", "layer_norm_eps=1e-6")));
    assertEquals("--set dims=8,16,x: expected positive integers, one per stage, like 3,4,30,3", fails(spai, goodTrunk,
        goodHead, List.of("vit.num_heads=2", "convnext.dims=8,16,x")));
    String unknown = fails(spai, goodTrunk, null, List.of("vit.num_heads=2", "convnext.widths=1"));
    assertTrue(unknown.startsWith("unknown --set key 'convnext.widths'; --spai takes vit.img_size,"), unknown);
    assertTrue(unknown.contains("; --convnext takes depths, dims, stem.kernel, stem.stride, dwconv.kernel, mlp_ratio,"
        + " layer_norm_eps, input_size; --head takes spectral_dim, semantic_dim, projection_dim, fusion_dim,"
        + " layer_norm_eps"), unknown);
    // an override that contradicts the shapes is reported as wrong shapes
    String eps = fails(spai, goodTrunk, goodHead, List.of("vit.num_heads=2", "convnext.mlp_ratio=2"));
    assertTrue(eps.startsWith("--convnext " + goodTrunk + ": the weights do not match the convnext model their shapes"
        + " describe (ConvNeXt depths [1, 1, 2, 1], dims [8, 16, 32, 64], stem 4/4, dw 7, MLP ×2,"), eps);
  }
}
