package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.DType;
import io.semspai.checkpoint.TorchCheckpointWriter;
import io.semspai.engine.ModelOutput;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.image.RgbImage;
import io.semspai.semantic.ConvNextConfig;
import io.semspai.semantic.ConvNextModel;
import io.semspai.semantic.ConvNextRandomInit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenCLIP {@code convnext_xxlarge} file at full size: a CLIP state dict under OpenCLIP's key names with the
 * whole image trunk (843,398,016 parameters, 3.37 GB in fp32), the image projection and a few text-tower tensors,
 * written here one tensor at a time, imports in a child JVM whose heap is a tenth of the file, bit for bit, and the
 * bundle runs one 224 px image through the trunk and the fusion head.
 *
 * <p>Tagged {@code full}: the default build skips it; {@code mvn -B -o -Pfull -pl common -am verify
 * -Dtest=FullShapeConvNextImportTest -Dsurefire.failIfNoSpecifiedTests=false} runs it (about 7 GB of temporary
 * files, deleted after). {@code -Dsemspai.import.heapMiB=N} sets the child's heap (default 384).
 */
@Tag("full")
class FullShapeConvNextImportTest {
  static final long SEED = 3;

  @TempDir Path tmp;

  @Test
  void fullSizeOpenClipCheckpointImportsInASmallHeapAndRuns() throws Exception {
    int heapMiB = Integer.getInteger("semspai.import.heapMiB", 384);
    ConvNextConfig cfg = ConvNextConfig.full();
    assertEquals(843_398_016L, ConvNextRandomInit.parameterCount(cfg));
    Path clip = tmp.resolve("open_clip_pytorch_model.bin");
    long t0 = System.nanoTime();
    writeOpenClip(clip, cfg);
    long size = Files.size(clip);
    double writeSeconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(size > 3_370_000_000L, "full-size fp32 trunk: " + size);

    Path bundle = tmp.resolve("bundle");
    try {
      ImportProbe.Measured m = ImportProbe.inChildJvm(heapMiB, bundle, "--spai",
          GoldenSpai.dir().resolve("spai.pth").toString(), "--convnext", clip.toString(), "--set", "vit.num_heads=2");
      System.out.printf("full-shape ConvNeXt import: checkpoint %.1f MB written in %.1f s; import with -Xmx%dm:"
          + " %.1f s, peak heap %.1f MiB, bundle %.1f MB%n", size / 1e6, writeSeconds, heapMiB, m.seconds(),
          m.peakHeapMiB(), m.bytes() / 1e6);
      assertTrue(m.peakHeapMiB() * 1048576 < size / 8.0, "the import streams: peak heap " + m.peakHeapMiB());
      Files.delete(clip);

      // the bundle holds exactly the trunk, bit for bit what the checkpoint held
      Safetensors.Header h = Safetensors.readHeader(bundle.resolve(ConvNextModel.FILE));
      Map<String, Shape> shapes = ConvNextModel.expectation(cfg).shapes();
      assertEquals(shapes.keySet(), h.byName().keySet());
      Set<String> spot = Set.of("visual.trunk.stem.0.weight", "visual.trunk.stages.2.blocks.29.gamma",
          "visual.trunk.stages.3.blocks.2.mlp.fc1.weight", "visual.trunk.stages.3.downsample.1.weight",
          "visual.trunk.head.norm.bias");
      Map<String, float[]> read = new HashMap<>();
      Safetensors.stream(bundle.resolve(ConvNextModel.FILE), null, spot::contains,
          (info, buf) -> read.put(info.name(), Safetensors.toFloats(info, buf)));
      for (String k : spot) {
        assertArrayEquals(ConvNextRandomInit.values(k, shapes.get(k).getShape(), SEED), read.get(k), k);
      }

      // one forward of one 224 px image through the trunk and the (random) fusion head
      try (SemSpaiModel model = SemSpaiModel.load(bundle)) {
        assertEquals(cfg, model.convnext().config());
        byte[] rgb = new byte[224 * 224 * 3];
        for (int i = 0; i < rgb.length; i++) {
          rgb[i] = (byte) ((i * 37) ^ (i / 672));
        }
        long f0 = System.nanoTime();
        ModelOutput o = model.score(new RgbImage(224, 224, rgb));
        System.out.printf("full-shape forward of one 224 px image (tiny SPAI + ConvNeXt-XXL + head): %.1f s,"
            + " fused logit %.4f%n", (System.nanoTime() - f0) / 1e9, o.fusedLogit());
        assertEquals(3072, o.semanticFeature().length);
        for (float v : o.semanticFeature()) {
          assertTrue(Float.isFinite(v));
        }
        assertNotNull(o.fusedLogit());
        assertTrue(Float.isFinite(o.fusedLogit()), "fused logit " + o.fusedLogit());
      }
    } finally {
      Files.deleteIfExists(clip);
      deleteTree(bundle);
    }
  }

  /**
   * OpenCLIP's CLIP state dict, image tower first: the trunk ({@link ConvNextRandomInit}'s values, so any tensor can
   * be regenerated to compare), {@code visual.head.proj.weight} (1024×3072, no bias), then the text tower's small
   * tensors and the logit scale. One tensor in memory at a time.
   */
  static void writeOpenClip(Path file, ConvNextConfig cfg) throws IOException {
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      Map<String, Object> sd = new LinkedHashMap<>();
      for (Safetensors.TensorSpec s : ConvNextRandomInit.specs(cfg)) {
        sd.put(s.name(), w.tensor(DType.F32, s.shape(), ConvNextRandomInit.values(s.name(), s.shape(), SEED)));
      }
      Map<String, long[]> extras = new LinkedHashMap<>();
      extras.put("visual.head.proj.weight", new long[] {1024, 3072});
      extras.put("positional_embedding", new long[] {77, 1024});
      extras.put("text_projection", new long[] {1024, 1024});
      extras.put("token_embedding.weight", new long[] {49408, 16}); // narrowed: its values are never read
      extras.put("ln_final.weight", new long[] {1024});
      extras.put("ln_final.bias", new long[] {1024});
      extras.put("logit_scale", new long[0]);
      for (Map.Entry<String, long[]> e : extras.entrySet()) {
        sd.put(e.getKey(), w.tensor(DType.F32, e.getValue(), FullShapeSpaiCheckpoint.smallValues(e.getKey(),
            e.getValue())));
      }
      w.finish(TorchCheckpointWriter.orderedDict(sd));
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var s = Files.walk(root)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
