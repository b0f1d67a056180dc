package io.semspai.importer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semspai.bundle.Safetensors;
import io.semspai.checkpoint.DType;
import io.semspai.checkpoint.HalfFloat;
import io.semspai.checkpoint.TorchCheckpointWriter;
import io.semspai.fusion.SemSpaiBundles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checkpoints in the layouts users bring (OpenCLIP's CLIP state dict, a Sem-SPAI training checkpoint), written from
 * the tensors of a tiny random Sem-SPAI bundle ({@link SemSpaiBundles#writeRandom}), so an import of them can be
 * compared with that bundle loaded directly.
 */
final class SemSpaiCheckpoints {
  private SemSpaiCheckpoints() {}

  static final long SEED = 5;

  /** The reference: a tiny random Sem-SPAI bundle with SPAI's native input, as an import records it. */
  static Path reference(Path dir) throws IOException {
    return SemSpaiBundles.writeRandom(dir, SemSpaiBundles.Preset.named("tiny"), SEED, "reference", "0.1.0", "native");
  }

  /**
   * What the import tests start from: the reference bundle, its tensors, and its SPAI (bare torch zip), trunk
   * (OpenCLIP layout, zip) and head (safetensors) as checkpoint files.
   */
  record Fixture(Path reference, Map<String, GoldenSpai.Tensor> spai, Map<String, GoldenSpai.Tensor> trunk,
      Map<String, GoldenSpai.Tensor> head, Path spaiFile, Path trunkFile, Path headFile) {
    static Fixture write(Path dir) throws IOException {
      Path reference = SemSpaiCheckpoints.reference(dir.resolve("reference"));
      Map<String, GoldenSpai.Tensor> spai = tensors(reference, "spai.safetensors");
      Map<String, GoldenSpai.Tensor> trunk = tensors(reference, "convnext.safetensors");
      Map<String, GoldenSpai.Tensor> head = tensors(reference, "head.safetensors");
      return new Fixture(reference, spai, trunk, head, GoldenSpai.writeBare(dir.resolve("spai.pth"), spai, DType.F32),
          GoldenSpai.writeBare(dir.resolve("open_clip_pytorch_model.bin"), openClip(trunk), DType.F32),
          safetensors(dir.resolve("head.safetensors"), head, Safetensors.DType.F32));
    }
  }

  /** The tensors of one weight file of a bundle, in file order. */
  static Map<String, GoldenSpai.Tensor> tensors(Path bundle, String file) throws IOException {
    Map<String, GoldenSpai.Tensor> out = new LinkedHashMap<>();
    Safetensors.stream(bundle.resolve(file), null, k -> true, (info, buf) -> out.put(info.name(),
        info.dtype() == Safetensors.DType.I64 ? new GoldenSpai.Tensor(info.shape(), null, Safetensors.toLongs(info,
            buf)) : new GoldenSpai.Tensor(info.shape(), Safetensors.toFloats(info, buf), null)));
    return out;
  }

  /**
   * The parts of a tiny OpenCLIP CLIP model that are not the image trunk: the image tower's projection, a one-block
   * text tower and the logit scale.
   */
  static Map<String, GoldenSpai.Tensor> openClipExtras() {
    Map<String, GoldenSpai.Tensor> m = new LinkedHashMap<>();
    m.put("positional_embedding", filled(new long[] {8, 16}, 0.01f));
    m.put("text_projection", filled(new long[] {16, 16}, 0.02f));
    m.put("logit_scale", filled(new long[0], 4.6052f));
    m.put("token_embedding.weight", filled(new long[] {64, 16}, 0.03f));
    m.put("transformer.resblocks.0.attn.in_proj_weight", filled(new long[] {48, 16}, 0.04f));
    m.put("transformer.resblocks.0.attn.in_proj_bias", filled(new long[] {48}, 0f));
    m.put("ln_final.weight", filled(new long[] {16}, 1f));
    m.put("ln_final.bias", filled(new long[] {16}, 0f));
    m.put("visual.head.proj.weight", filled(new long[] {16, 64}, 0.05f));
    return m;
  }

  /** OpenCLIP's layout: the CLIP state dict, the trunk among the rest of the model. */
  static Map<String, GoldenSpai.Tensor> openClip(Map<String, GoldenSpai.Tensor> trunk) {
    Map<String, GoldenSpai.Tensor> all = new LinkedHashMap<>();
    Map<String, GoldenSpai.Tensor> extras = openClipExtras();
    extras.forEach((k, v) -> {
      if (!k.startsWith("visual.")) {
        all.put(k, v);
      }
    });
    all.putAll(trunk);
    all.put("visual.head.proj.weight", extras.get("visual.head.proj.weight"));
    return all;
  }

  static GoldenSpai.Tensor filled(long[] shape, float v) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] f = new float[(int) n];
    java.util.Arrays.fill(f, v);
    return new GoldenSpai.Tensor(shape, f, null);
  }

  /**
   * A Sem-SPAI training checkpoint as upstream's {@code save_checkpoint} writes it: {@code SemanticContextModel}'s
   * state dict under {@code model} (frozen SPAI as {@code spai_model.*}, the trunk as {@code semantic_backbone.*},
   * then the head), an optimizer section for the head and the run's bookkeeping.
   */
  static Path semSpai(Path file, Map<String, GoldenSpai.Tensor> spai, Map<String, GoldenSpai.Tensor> trunk,
      Map<String, GoldenSpai.Tensor> head) throws IOException {
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      Map<String, Object> model = new LinkedHashMap<>();
      for (Map.Entry<String, GoldenSpai.Tensor> e : spai.entrySet()) {
        model.put("spai_model." + e.getKey(), tensor(w, e.getValue(), DType.F32));
      }
      for (Map.Entry<String, GoldenSpai.Tensor> e : trunk.entrySet()) {
        model.put(ConvNextImporter.SEM_SPAI_PREFIX + e.getKey().substring(ConvNextImporter.PREFIX.length()),
            tensor(w, e.getValue(), DType.F32));
      }
      for (Map.Entry<String, GoldenSpai.Tensor> e : head.entrySet()) {
        model.put(e.getKey(), tensor(w, e.getValue(), DType.F32));
      }
      Map<String, Object> optimizer = new LinkedHashMap<>();
      optimizer.put("state", Map.of());
      optimizer.put("param_groups", List.of(Map.of("lr", 5e-4, "weight_decay", 0.05)));
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("model", TorchCheckpointWriter.orderedDict(model));
      root.put("optimizer", optimizer);
      root.put("max_accuracy", 0.91);
      root.put("epoch", 6);
      root.put("config", Map.of("MODEL", Map.of("SID_APPROACH", "semantic_context")));
      w.finish(root);
    }
    return file;
  }

  private static TorchCheckpointWriter.Tensor tensor(TorchCheckpointWriter w, GoldenSpai.Tensor t, DType dtype)
      throws IOException {
    return t.longs() != null ? w.tensor(DType.I64, t.shape(), t.longs()) : w.tensor(dtype, t.shape(), t.floats());
  }

  /** A safetensors file with floats stored as {@code dtype} (F32, F16 or BF16, rounded to nearest even). */
  static Path safetensors(Path file, Map<String, GoldenSpai.Tensor> tensors, Safetensors.DType dtype)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long at = 0;
    for (Map.Entry<String, GoldenSpai.Tensor> e : tensors.entrySet()) {
      GoldenSpai.Tensor t = e.getValue();
      boolean longs = t.longs() != null;
      long bytes = longs ? 8L * t.longs().length : (long) (dtype == Safetensors.DType.F32 ? 4 : 2) * t.floats().length;
      ObjectNode n = header.putObject(e.getKey());
      n.put("dtype", longs ? "I64" : dtype.name());
      n.putPOJO("shape", t.shape());
      n.putArray("data_offsets").add(at).add(at + bytes);
      at += bytes;
    }
    byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(h);
      out.write(" ".repeat(padded - h.length).getBytes(StandardCharsets.US_ASCII));
      for (GoldenSpai.Tensor t : tensors.values()) {
        ByteBuffer b;
        if (t.longs() != null) {
          b = ByteBuffer.allocate(8 * t.longs().length).order(ByteOrder.LITTLE_ENDIAN);
          b.asLongBuffer().put(t.longs());
        } else if (dtype == Safetensors.DType.F32) {
          b = ByteBuffer.allocate(4 * t.floats().length).order(ByteOrder.LITTLE_ENDIAN);
          b.asFloatBuffer().put(t.floats());
        } else {
          b = ByteBuffer.allocate(2 * t.floats().length).order(ByteOrder.LITTLE_ENDIAN);
          for (float f : t.floats()) {
            b.putShort(dtype == Safetensors.DType.F16 ? HalfFloat.floatToHalf(f) : HalfFloat.floatToBf16(f));
          }
        }
        out.write(b.array());
      }
    }
    return file;
  }

  /** What a float becomes stored as {@code dtype} and widened back. */
  static float roundTrip(float f, DType dtype) {
    return switch (dtype) {
      case F16 -> HalfFloat.halfToFloat(HalfFloat.floatToHalf(f));
      case BF16 -> HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(f));
      default -> f;
    };
  }
}
