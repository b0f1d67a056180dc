package io.semspai.checkpoint;

import static io.semspai.checkpoint.Fixtures.assertMatches;
import static io.semspai.checkpoint.Fixtures.assertStateDict;
import static io.semspai.checkpoint.Fixtures.json;
import static io.semspai.checkpoint.Fixtures.path;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Checkpoints written by PyTorch 1.13's torch.save, read back in Java and compared with what PyTorch saw. */
class TorchCheckpointTest {

  @Test
  void spaiStyleTrainingCheckpointYieldsTheModelAndSkipsTheRest() throws Exception {
    JsonNode expected = json("spai_like.json");
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("spai_like.pth"))) {
      assertEquals("spai_like", ckpt.archiveName());
      assertEquals("3", ckpt.formatVersion());
      assertEquals(ByteOrder.LITTLE_ENDIAN, ckpt.byteOrder());
      assertEquals(List.of("model", "optimizer", "lr_scheduler", "max_accuracy", "epoch", "config"),
          ckpt.topLevelKeys());

      StateDict model = ckpt.stateDict();
      assertTrue(model.source().endsWith("spai_like.pth [model]"), model.source());
      assertStateDict(expected.get("model"), model);
      assertEquals(Map.of(), model.skipped());
      assertEquals(0, model.get("steps").rank());
      assertArrayEquals(new long[] {7}, model.get("steps").toLongs());
      assertStateDict(expected.get("model"), ckpt.stateDict("model"));

      Map<?, ?> root = (Map<?, ?>) ckpt.root();
      assertEquals(3L, root.get("epoch"));
      assertEquals(0.9, root.get("max_accuracy"));

      // The optimizer is plain data with int keys and tensors: reachable, though no state dict.
      Map<?, ?> optimizer = (Map<?, ?>) root.get("optimizer");
      Map<?, ?> state0 = (Map<?, ?>) ((Map<?, ?>) optimizer.get("state")).get(0L);
      for (String k : List.of("exp_avg", "exp_avg_sq")) {
        TorchTensor t = (TorchTensor) state0.get(k);
        assertNull(t.key());
        assertMatches(expected.get("optimizer_state0").get(k), t);
      }
      Map<?, ?> group = (Map<?, ?>) ((List<?>) optimizer.get("param_groups")).get(0);
      assertEquals(expected.get("optimizer_lr").asDouble(), group.get("lr"));

      // yacs-like config: a __main__ class nobody can import here, kept opaque with its items readable.
      OpaqueObject config = assertInstanceOf(OpaqueObject.class, root.get("config"));
      assertEquals("__main__.CfgNode", config.type().qualifiedName());
      OpaqueObject modelCfg = assertInstanceOf(OpaqueObject.class, config.items().get("MODEL"));
      assertEquals("spai", modelCfg.items().get("NAME"));
      assertEquals(224L, modelCfg.items().get("PATCH_SIZE"));
      assertEquals(List.of(0L, 1L, 2L), modelCfg.items().get("FEATURE_LAYERS"));
      assertEquals(Map.of("__immutable__", false, "__new_allowed__", false), modelCfg.state());
      OpaqueObject train = (OpaqueObject) config.items().get("TRAIN");
      assertEquals(List.of(1L, 2L, 3L), train.items().get("EPOCHS"));
      assertEquals(Set.of(1L, 2L), train.items().get("SEEDS"));
      assertNull(train.items().get("AMP"));
      assertArrayEquals(new byte[] {0, (byte) 0xff, 'b', 'y', 't', 'e', 's'}, (byte[]) config.items().get("TAG"));
      assertEquals(BigInteger.TWO.pow(80).add(BigInteger.ONE), config.items().get("BIG"));
      assertEquals(-123456789L, config.items().get("NEG"));
      OpaqueObject npScalar = assertInstanceOf(OpaqueObject.class, config.items().get("BEST_NP"));
      assertEquals("numpy.core.multiarray.scalar", npScalar.type().qualifiedName());
    }
  }

  @Test
  void bareFp16StateDictWidensExactly() throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("bare_fp16.pth"))) {
      StateDict sd = ckpt.stateDict();
      assertEquals(DType.F16, sd.get("special").dtype());
      assertStateDict(json("bare_fp16.json"), sd);
      float[] special = sd.get("special").toFloats();
      assertEquals(65504f, special[5]);
      assertEquals(0x1p-24f, special[6]); // 6e-8 lands on the smallest fp16 subnormal
      assertTrue(Float.isNaN(special[4]));
      assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(special[1]));
    }
  }

  @Test
  void bareBf16StateDictWidensExactly() throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("bare_bf16.pth"))) {
      StateDict sd = ckpt.stateDict("");
      assertEquals(DType.BF16, sd.get("blocks.0.weight").dtype());
      assertStateDict(json("bare_bf16.json"), sd);
    }
  }

  @Test
  void viewsOffsetsStridesAndEveryIntegerDtype() throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("views.pth"))) {
      StateDict sd = ckpt.stateDict();
      assertStateDict(json("views.json"), sd);

      TorchTensor x = sd.get("x");
      TorchTensor y = sd.get("y");
      assertEquals(y.storageKey(), x.storageKey(), "a view shares its base's storage");
      assertArrayEquals(new float[] {2, 3, 4}, x.toFloats());
      assertFalse(sd.get("t").isContiguous());
      assertArrayEquals(new float[] {0, 5, 1, 6, 2, 7, 3, 8, 4, 9}, sd.get("t").toFloats());
      assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3}, sd.get("e").toFloats());
      assertArrayEquals(new float[] {1, 4, 7}, sd.get("s").toFloats());
      assertArrayEquals(new float[] {2.5f}, sd.get("scalar").toFloats());
      assertEquals(0, sd.get("empty").toFloats().length);
      assertArrayEquals(new long[] {-3, -2, -1, 0, 1, 2}, sd.get("i64").toLongs());
      assertArrayEquals(new long[] {0, 255, 7}, sd.get("u8").toLongs());
      assertArrayEquals(new long[] {1, 0, 1}, sd.get("bool").toLongs());

      TorchTensor param = sd.get("param");
      assertTrue(param.isParameter());
      assertTrue(param.requiresGrad());
      assertFalse(y.isParameter());
      assertEquals(24, param.byteSize());
    }
  }

  @Test
  void pickleProtocol4WithFramesAndMemoize() throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("proto4.pth"))) {
      assertStateDict(json("proto4.json"), ckpt.stateDict());
      assertTrue(ckpt.stateDict().source().endsWith("[state_dict]"));
      Map<?, ?> root = (Map<?, ?>) ckpt.root();
      assertArrayEquals("raw".getBytes(StandardCharsets.US_ASCII), (byte[]) root.get("note"));
      assertEquals(12L, root.get("epoch"));
    }
  }

  @Test
  void topFolderIsReadFromTheArchiveNotTheFileName() throws Exception {
    // make.py copied views.pth's entries into a file with another name: the folder stays "views".
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("missing_storage.pth"))) {
      assertEquals("views", ckpt.archiveName());
    }
  }

  @Test
  void withPrefixSelectsATowerAndStripsItsPrefix() throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("spai_like.pth"))) {
      StateDict sd = ckpt.stateDict();
      StateDict norm = sd.withPrefix("norm.");
      assertEquals(Set.of("weight", "bias"), norm.keys());
      assertSame(sd.get("norm.weight"), norm.get("weight"));
      assertEquals(0, sd.withPrefix("visual.trunk.").size());
    }
  }
}
