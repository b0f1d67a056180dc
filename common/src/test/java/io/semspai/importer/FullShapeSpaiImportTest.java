package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.DType;
import io.semspai.image.RgbImage;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiPatches;
import io.semspai.spai.SpaiRandomInit;
import io.semspai.spai.SpaiResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SPAI training checkpoint of upstream's full shape, built here under upstream's key names (unused ViT parts and
 * an optimizer section included), imports in a child JVM whose heap is far below the file's size, and the bundle
 * runs a forward pass. With {@code -Dsemspai.import.fullOptimizer=true} the checkpoint carries AdamW moments for
 * every trainable tensor, making it about as large as the released {@code spai.pth}; {@code
 * -Dsemspai.import.heapMiB=N} sets the child's heap (default 256).
 */
class FullShapeSpaiImportTest {
  @TempDir Path tmp;

  @Test
  void fullShapeCheckpointImportsInASmallHeapAndRuns() throws Exception {
    boolean fullOptimizer = Boolean.getBoolean("semspai.import.fullOptimizer");
    int heapMiB = Integer.getInteger("semspai.import.heapMiB", 256);
    long t0 = System.nanoTime();
    FullShapeSpaiCheckpoint.Written ckpt = FullShapeSpaiCheckpoint.write(tmp.resolve("spai.pth"), DType.F32,
        fullOptimizer);
    double writeSeconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(ckpt.bytes() > 560_000_000L, "full-size fp32 model: " + ckpt.bytes());
    assertTrue(ckpt.bytes() > heapMiB * 1048576L * 2, "the file must dwarf the child's heap");

    Path bundle = tmp.resolve("bundle");
    ImportProbe.Measured m = ImportProbe.inChildJvm(heapMiB, bundle, "--spai", ckpt.file().toString());
    System.out.printf("full-shape import: checkpoint %.1f MB written in %.1f s; import with -Xmx%dm: %.3f s, peak heap"
        + " %.1f MiB, bundle %.1f MB%n", ckpt.bytes() / 1e6, writeSeconds, heapMiB, m.seconds(), m.peakHeapMiB(),
        m.bytes() / 1e6);
    assertEquals(SpaiModel.expectation(SpaiConfig.full()).shapes().size(), m.tensors());

    // the bundle holds exactly the used tensors, bit for bit what the checkpoint held
    Safetensors.Header h = Safetensors.readHeader(bundle.resolve("spai.safetensors"));
    assertEquals(Set.copyOf(ckpt.modelKeys()), h.byName().keySet());
    Set<String> spotChecks = Set.of("mfvit.vit.blocks.11.mlp.fc2.weight", "mfvit.vit.pos_embed",
        "mfvit.features_processor.patch_projector.projectors.7.projector.1.weight", "to_kv.weight",
        "cls_head.head.3.weight", "norm.bias");
    Map<String, float[]> read = new HashMap<>();
    Safetensors.stream(bundle.resolve("spai.safetensors"), null, spotChecks::contains,
        (info, buf) -> read.put(info.name(), Safetensors.toFloats(info, buf)));
    for (String k : spotChecks) {
      assertArrayEquals(SpaiRandomInit.values(k, h.byName().get(k).shape(), FullShapeSpaiCheckpoint.SEED), read.get(k),
          k);
    }

    // one forward: one patch of a small image
    try (SpaiModel model = SpaiModel.load(bundle)) {
      assertEquals(SpaiConfig.full(), model.config());
      byte[] rgb = new byte[120 * 90 * 3];
      for (int i = 0; i < rgb.length; i++) {
        rgb[i] = (byte) ((i * 37) ^ (i / 360));
      }
      SpaiPatches five = model.inputPolicy().patches(new RgbImage(120, 90, rgb));
      SpaiPatches one = new SpaiPatches(five.imageWidth(), five.imageHeight(), five.crop(), five.size(),
          Arrays.copyOf(five.pixels(), five.patchLength()), List.of(five.boxes().get(0)));
      long f0 = System.nanoTime();
      SpaiResult r = model.score(one);
      System.out.printf("full-shape forward of one patch: %.2f s, logit %.4f%n", (System.nanoTime() - f0) / 1e9,
          r.logit());
      assertTrue(Float.isFinite(r.logit()), "logit " + r.logit());
      assertEquals(1.0f, r.patches().get(0).attention(), 1e-6f, "one patch takes all the attention");
      float[] feature = r.patchFeatures()[0];
      assertEquals(1096, feature.length);
      for (int i = 0; i < 72; i += 2) { // cosine means
        assertTrue(feature[i] >= -1.0001f && feature[i] <= 1.0001f, "cosine mean " + i + " = " + feature[i]);
      }
      for (float v : feature) {
        assertTrue(Float.isFinite(v));
      }
    }
    Files.deleteIfExists(ckpt.file());
  }
}
