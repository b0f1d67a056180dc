package io.semspai.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.checkpoint.DType;
import io.semspai.checkpoint.TorchCheckpointWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each way an import can fail has its own message, and none leaves a bundle or a partial directory behind. */
class SpaiImportErrorsTest {
  @TempDir Path tmp;

  private String fails(Path file) {
    Path out = tmp.resolve("out");
    String msg = assertThrows(ImportException.class,
        () -> SpaiImportTest.importSpai(file, out, GoldenSpai.tinySettings())).getMessage();
    try {
      SpaiImportTest.assertNothingWritten(tmp);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return msg;
  }

  @Test
  void truncatedTorchFile() throws Exception {
    byte[] all = Files.readAllBytes(GoldenSpai.dir().resolve("spai.pth"));
    Path file = Files.write(tmp.resolve("cut.pth"), java.util.Arrays.copyOf(all, all.length / 2));
    assertEquals(file + ": truncated: the zip central directory at the end of the file is missing (" + all.length / 2
        + " bytes); the download or copy was probably cut short, fetch the file again", fails(file));
  }

  @Test
  void truncatedSafetensorsFile() throws Exception {
    byte[] all = Files.readAllBytes(GoldenSpai.dir().resolve("weights.safetensors"));
    Path file = Files.write(tmp.resolve("cut.safetensors"), java.util.Arrays.copyOf(all, all.length - 1000));
    String msg = fails(file);
    assertTrue(msg.startsWith(file + ": truncated: the header describes " + all.length + " bytes, the file has "
        + (all.length - 1000)), msg);
  }

  @Test
  void corruptZipDirectory() throws Exception {
    byte[] all = Files.readAllBytes(GoldenSpai.dir().resolve("spai.pth"));
    int cd = lastIndexOf(all, new byte[] {'P', 'K', 1, 2}); // a central directory entry
    for (int i = cd; i < cd + 4; i++) {
      all[i] = 'x';
    }
    Path file = Files.write(tmp.resolve("bad.pth"), all);
    String msg = fails(file);
    assertTrue(msg.startsWith(file + ": corrupt zip archive ("), msg);
    assertTrue(msg.endsWith("); fetch the file again"), msg);
  }

  /** A damaged tensor is found while the bundle is being written (its CRC); the partial bundle is removed. */
  @Test
  void corruptTensorDataFoundWhileWriting() throws Exception {
    Map<String, GoldenSpai.Tensor> sd = GoldenSpai.stateDict();
    Path file = GoldenSpai.writeBare(tmp.resolve("damaged.pth"), sd, DType.F32);
    int index = new ArrayList<>(sd.keySet()).indexOf("to_kv.weight");
    byte[] all = Files.readAllBytes(file);
    int data = dataOffset(all, "damaged/data/" + index);
    all[data + 17] ^= 0x40;
    Files.write(file, all);
    assertEquals("--spai " + file + ": tensor 'to_kv.weight': its storage data/" + index
        + " is corrupt (CRC mismatch); fetch the file again", fails(file));
  }

  @Test
  void notACheckpoint() throws Exception {
    Path file = Files.writeString(tmp.resolve("notes.txt"), "these are not weights\n");
    String msg = fails(file);
    assertTrue(msg.startsWith(file + ": not a PyTorch checkpoint: a torch.save file is a zip archive starting with"
        + " 504b0304 (\"PK\"), this one starts with "), msg);
    Path empty = Files.write(tmp.resolve("empty.pth"), new byte[0]);
    assertEquals(empty + ": is empty (0 bytes), not a checkpoint", fails(empty));
    Path missing = tmp.resolve("nowhere.pth");
    assertEquals(missing + ": does not exist", fails(missing));
  }

  @Test
  void wrongKeys() throws Exception {
    Map<String, GoldenSpai.Tensor> sd = new LinkedHashMap<>();
    GoldenSpai.stateDict().forEach((k, v) -> sd.put(k.equals("norm.weight") ? "norm.gamma" : k, v));
    sd.put("extra.thing", new GoldenSpai.Tensor(new long[] {2}, new float[2], null));
    Path file = GoldenSpai.writeBare(tmp.resolve("keys.pth"), sd, DType.F32);
    assertEquals("--spai " + file + ": the weights do not match the spai model their shapes describe (ViT 224 px /"
        + " patch 16, width 32, depth 4, 2 heads, MLP ×4; FRE 4 layers → 64; SCA 48 / 4 heads; head ×3; feature 88):"
        + " 1 missing key [norm.weight]; 2 unexpected keys [norm.gamma, extra.thing]", fails(file));
  }

  @Test
  void wrongShapesAndTypes() throws Exception {
    String projector = "mfvit.features_processor.patch_projector.projectors.3.projector.4.weight";
    Map<String, GoldenSpai.Tensor> sd = GoldenSpai.edited(m -> {
      m.put(projector, new GoldenSpai.Tensor(new long[] {64, 60}, new float[64 * 60], null));
      m.put("mfvit.vit.cls_token", new GoldenSpai.Tensor(new long[] {1, 1, 32}, null, new long[32]));
      return m;
    });
    Path file = GoldenSpai.writeBare(tmp.resolve("shapes.pth"), sd, DType.F32);
    String msg = fails(file);
    assertTrue(msg.endsWith("): 1 wrong shape [" + projector + " is (64, 60), expected (64, 64)]; 1 wrong type"
        + " [mfvit.vit.cls_token is I64, expected a floating type]"), msg);
  }

  @Test
  void nonFiniteWeights() throws Exception {
    Map<String, GoldenSpai.Tensor> sd = GoldenSpai.edited(m -> {
      GoldenSpai.Tensor t = m.get("norm.bias");
      float[] v = t.floats().clone();
      v[3] = Float.NaN;
      m.put("norm.bias", new GoldenSpai.Tensor(t.shape(), v, null));
      return m;
    });
    Path file = GoldenSpai.writeBare(tmp.resolve("nan.pth"), sd, DType.F16);
    assertEquals("--spai " + file + ": tensor norm.bias holds 1 non-finite value (NaN or ±Inf); the checkpoint is"
        + " damaged or was saved after training diverged", fails(file));
  }

  @Test
  void anOpenClipFileGivenAsSpaiSaysWhereItBelongs() throws Exception {
    Path file = tmp.resolve("open_clip_pytorch_model.bin");
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      Map<String, Object> sd = new LinkedHashMap<>();
      sd.put("visual.trunk.stem.0.weight", w.tensor(DType.F16, new long[] {4, 3, 4, 4}, new float[192]));
      sd.put("visual.trunk.stem.0.bias", w.tensor(DType.F16, new long[] {4}, new float[4]));
      sd.put("visual.head.proj.weight", w.tensor(DType.F16, new long[] {2, 4}, new float[8]));
      w.finish(TorchCheckpointWriter.orderedDict(sd));
    }
    String msg = fails(file);
    assertTrue(msg.startsWith("--spai " + file + ": these look like OpenCLIP ConvNeXt weights (visual.trunk.*): pass"
        + " that file with --convnext. In detail, the weights do not match the spai model"), msg);
    assertTrue(msg.contains(": 281 missing keys [patch_aggregator, mfvit.frequencies_mask, mfvit.vit.cls_token,"), msg);
    assertTrue(msg.endsWith(", … 269 more]; 3 unexpected keys [visual.trunk.stem.0.weight, visual.trunk.stem.0.bias,"
        + " visual.head.proj.weight]"), msg);
  }

  @Test
  void anExistingOutputIsNeverTouched() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("taken"));
    Files.writeString(out.resolve("keep.txt"), "mine");
    assertEquals("--out " + out + " already exists and is not an empty directory", assertThrows(ImportException.class,
        () -> SpaiImportTest.importSpai(GoldenSpai.dir().resolve("spai.pth"), out, GoldenSpai.tinySettings()))
        .getMessage());
    assertEquals("mine", Files.readString(out.resolve("keep.txt")));
  }

  private static int lastIndexOf(byte[] all, byte[] pattern) {
    for (int i = all.length - pattern.length; i >= 0; i--) {
      if (java.util.Arrays.equals(all, i, i + pattern.length, pattern, 0, pattern.length)) {
        return i;
      }
    }
    throw new AssertionError("pattern not found");
  }

  /** Where a stored zip entry's data starts: after its local header, name and extra field. */
  private static int dataOffset(byte[] all, String entry) {
    byte[] name = entry.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i + 30 < all.length; i++) {
      if (all[i] == 'P' && all[i + 1] == 'K' && all[i + 2] == 3 && all[i + 3] == 4) {
        int n = (all[i + 26] & 0xFF) | (all[i + 27] & 0xFF) << 8;
        int m = (all[i + 28] & 0xFF) | (all[i + 29] & 0xFF) << 8;
        if (n == name.length && java.util.Arrays.equals(all, i + 30, i + 30 + n, name, 0, n)) {
          return i + 30 + n + m;
        }
      }
    }
    throw new AssertionError("entry " + entry + " not found");
  }

}
