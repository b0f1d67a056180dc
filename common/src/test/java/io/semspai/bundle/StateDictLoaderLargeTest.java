package io.semspai.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.semspai.semantic.ConvNextConfig;
import io.semspai.semantic.ConvNextModel;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiModel;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two-pass path for large files gives the same arrays and the same refusals as the one-pass path. */
class StateDictLoaderLargeTest {
  @TempDir Path tmp;

  static Path fixture(String path) throws Exception {
    return Path.of(StateDictLoaderLargeTest.class.getResource("/golden/" + path).toURI());
  }

  @Test
  void bothPathsLoadTheSameArraysIncludingInt64AndSkippedKeys() throws Exception {
    Path spai = fixture("spai/weights.safetensors");
    Path convnext = fixture("semantic/convnext.safetensors"); // holds OpenCLIP tensors that are skipped
    String sha = Safetensors.sha256Hex(spai);
    try (NDManager m = NDManager.newBaseManager()) {
      assertSame(StateDictLoader.loadInOnePass(spai, sha, SpaiModel.expectation(SpaiConfig.tiny()), m),
          StateDictLoader.loadLarge(spai, sha, SpaiModel.expectation(SpaiConfig.tiny()), m));
      StateDictLoader.Expectation cn = ConvNextModel.expectation(ConvNextConfig.tiny());
      assertSame(StateDictLoader.loadInOnePass(convnext, null, cn, m),
          StateDictLoader.loadLarge(convnext, null, cn, m));
    }
  }

  @Test
  void tamperedOrMismatchedFilesAreRefusedBeforeAnyTensorIsRead() throws Exception {
    Path copy = tmp.resolve("w.safetensors");
    Files.copy(fixture("spai/weights.safetensors"), copy);
    String sha = Safetensors.sha256Hex(copy);
    try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {7, 7, 7}), Files.size(copy) - 100);
    }
    try (NDManager m = NDManager.newBaseManager()) {
      StateDictLoader.Refusal e = assertThrows(StateDictLoader.Refusal.class,
          () -> StateDictLoader.loadLarge(copy, sha, SpaiModel.expectation(SpaiConfig.tiny()), m));
      assertTrue(e.getMessage().startsWith("sha256 mismatch (expected " + sha), e.getMessage());
      e = assertThrows(StateDictLoader.Refusal.class, () -> StateDictLoader.loadLarge(
          fixture("semantic/convnext.safetensors"), null, SpaiModel.expectation(SpaiConfig.tiny()), m));
      assertTrue(e.getMessage().startsWith("weights do not match the architecture: "), e.getMessage());
    }
  }

  static void assertSame(Map<String, NDArray> a, Map<String, NDArray> b) {
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      assertEquals(a.get(k).getDataType(), b.get(k).getDataType(), k);
      assertEquals(a.get(k).getShape(), b.get(k).getShape(), k);
      if (a.get(k).getDataType() == DataType.INT64) {
        assertArrayEquals(a.get(k).toLongArray(), b.get(k).toLongArray(), k);
      } else {
        assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
      }
    }
  }
}
