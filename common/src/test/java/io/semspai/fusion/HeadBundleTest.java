package io.semspai.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.IntNode;
import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.engine.ModelOutput;
import io.semspai.image.RgbImage;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeadBundleTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  static SemSpaiModel model;
  static RgbImage image;

  static final ThresholdProfiles CALIBRATED = ThresholdProfiles.calibrated(ThresholdProfiles.Score.FUSED,
      "test: fixed values", List.of(new ThresholdProfile("balanced", 0.3, 0.7),
          new ThresholdProfile("strict", 0.2, 0.9)));

  @BeforeAll
  static void load() throws Exception {
    model = SemSpaiModel.load(GoldenBundle.create(shared.resolve("golden"), "native", true));
    image = GoldenBundle.image("rgb_700x500.png");
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** The model's head with the last layer negated: every fused logit flips sign. */
  static Map<String, float[]> negatedHead() {
    return negatedHeadOf(model);
  }

  static Map<String, float[]> negatedHeadOf(SemSpaiModel model) {
    Map<String, float[]> state = model.headState();
    for (String k : List.of("classifier.3.weight", "classifier.3.bias")) {
      float[] v = state.get(k);
      for (int i = 0; i < v.length; i++) {
        v[i] = -v[i];
      }
    }
    return state;
  }

  Path writeHead(Path out, BackboneHashes trainedOn) throws Exception {
    return HeadBundle.write(out, "head-test", "0.2.0", model.headConfig(), negatedHead(), CALIBRATED, trainedOn,
        new BundleManifest.Provenance("trained in a test", null, null, null), Map.of("parent_version",
            new com.fasterxml.jackson.databind.node.TextNode("0.0.1"), "holdout_size", IntNode.valueOf(12)));
  }

  @Test
  void headBundleSwapsInOnTheSameBackbonesWithItsThresholdsAndVersion() throws Exception {
    Path dir = writeHead(tmp.resolve("head"), model.backboneHashes());
    HeadBundle hb = HeadBundle.open(dir);
    assertEquals("0.2.0", hb.version());
    assertEquals(model.backboneHashes(), hb.trainedOn());
    assertEquals(CALIBRATED, hb.thresholds());
    assertEquals(Map.of("head", "head.safetensors"), Map.of("head", hb.bundle().manifest().component("head").file()));
    assertEquals(12, hb.bundle().manifest().other().get("holdout_size").asInt());
    assertTrue(Files.size(dir.resolve("head.safetensors")) < 100_000);

    ModelOutput before = model.score(image);
    try (SemSpaiModel swapped = model.swapHead(hb)) {
      assertSame(model.spai(), swapped.spai(), "SPAI is shared, not reloaded");
      assertSame(model.convnext(), swapped.convnext(), "ConvNeXt is shared, not reloaded");
      assertEquals("0.2.0", swapped.version());
      assertEquals(CALIBRATED, swapped.thresholds());
      assertEquals(ThresholdProfile.Label.AI, swapped.thresholds().balanced().label(0.7));
      ModelOutput after = swapped.score(image);
      assertEquals(before.spectralLogit(), after.spectralLogit(), 0f);
      assertEquals(-before.fusedLogit(), after.fusedLogit(), 1e-5f);
    }
    // the original keeps working after the swapped model is closed: the backbones are still referenced
    assertEquals(before.fusedLogit(), model.score(image).fusedLogit(), 0f);
  }

  @Test
  void backbonesAreFreedWithTheLastModelThatUsesThem() throws Exception {
    Path bundle = GoldenBundle.create(tmp.resolve("own"), "native", true);
    SemSpaiModel first = SemSpaiModel.load(bundle);
    SemSpaiModel second = first.swapHead(HeadBundle.open(writeHead(tmp.resolve("h"), first.backboneHashes())));
    first.close();
    first.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> first.score(image));
    float logit = second.score(image).fusedLogit(); // backbones still alive
    assertTrue(Float.isFinite(logit));
    second.close();
    assertThrows(RuntimeException.class, () -> second.spai().score(image), "backbone weights are freed");
  }

  @Test
  void headForOtherBackbonesIsRefusedNamingBothHashes() throws Exception {
    BackboneHashes other = new BackboneHashes("ab".repeat(32), model.backboneHashes().convnext());
    HeadBundle hb = HeadBundle.open(writeHead(tmp.resolve("other"), other));
    BundleException e = assertThrows(BundleException.class, () -> model.swapHead(hb));
    assertTrue(e.getMessage().startsWith("bundle " + tmp.resolve("other").toAbsolutePath() + ": head head-test 0.2.0 "
        + "was trained on other backbones (spai abababababab…, convnext "), e.getMessage());
    assertTrue(e.getMessage().contains("than model golden-tiny 0.0.1 runs (spai "
        + model.backboneHashes().spai().substring(0, 12)), e.getMessage());
    assertTrue(e.getMessage().contains("refusing to swap it in"), e.getMessage());
  }

  @Test
  void spectralModeRefusesAFusionHead() throws Exception {
    HeadBundle hb = HeadBundle.open(writeHead(tmp.resolve("h"), model.backboneHashes()));
    try (SemSpaiModel spectral = SemSpaiModel.load(shared.resolve("golden"), SemSpaiModel.Mode.SPECTRAL)) {
      BundleException e = assertThrows(BundleException.class, () -> spectral.swapHead(hb));
      assertTrue(e.getMessage().contains("runs in spectral mode"), e.getMessage());
    }
  }

  @Test
  void tamperedHeadWeightsAreRefusedOnSwap() throws Exception {
    Path dir = writeHead(tmp.resolve("t"), model.backboneHashes());
    try (FileChannel ch = FileChannel.open(dir.resolve("head.safetensors"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {9, 9, 9, 9}), Files.size(dir.resolve("head.safetensors")) - 8);
    }
    HeadBundle hb = HeadBundle.open(dir);
    BundleException e = assertThrows(BundleException.class, () -> model.swapHead(hb));
    assertTrue(e.getMessage().contains("component head: sha256 mismatch"), e.getMessage());
  }

  @Test
  void headAndFullBundlesAreNotMistakenForEachOther() throws Exception {
    BundleException notHead = assertThrows(BundleException.class, () -> HeadBundle.open(shared.resolve("golden")));
    assertTrue(notHead.getMessage().contains("not a head bundle (manifest kind is missing"), notHead.getMessage());
    Path head = writeHead(tmp.resolve("h2"), model.backboneHashes());
    BundleException notFull = assertThrows(BundleException.class, () -> SemSpaiModel.load(head));
    assertTrue(notFull.getMessage().contains("is a fusion-head bundle, which holds no backbones"),
        notFull.getMessage());
  }

  @Test
  void archiveRoundTripKeepsAHeadBundleUsable() throws Exception {
    Path zip = tmp.resolve("head.zip");
    BundleArchive.pack(writeHead(tmp.resolve("h3"), model.backboneHashes()), zip);
    BundleArchive.unpack(zip, tmp.resolve("unpacked"));
    try (SemSpaiModel swapped = model.swapHead(HeadBundle.open(tmp.resolve("unpacked")))) {
      assertEquals("0.2.0", swapped.version());
    }
  }

  @Test
  void writerRefusesIncompleteState() {
    Map<String, float[]> state = negatedHead();
    state.remove("classifier.3.bias");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HeadBundle.write(
        tmp.resolve("bad"), "x", "0.1.0", model.headConfig(), state, CALIBRATED, model.backboneHashes(),
        BundleManifest.Provenance.randomInit(1), Map.of()));
    assertTrue(e.getMessage().contains("classifier.3.bias is missing"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("bad")));
  }
}
