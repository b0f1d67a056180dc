package io.semspai.importer;

import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.semspai.checkpoint.DType;
import io.semspai.checkpoint.TorchCheckpointWriter;
import io.semspai.spai.FrequencyMask;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiRandomInit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a SPAI training checkpoint of upstream's full shape, the way {@code save_checkpoint} lays it out
 * ({@code model}, {@code optimizer}, {@code lr_scheduler}, {@code max_accuracy}, {@code epoch}, {@code config}),
 * under upstream's key names, including the tensors the forward never uses. Weights are {@link SpaiRandomInit}'s
 * spread values (no head calibration), so a test can regenerate any tensor to compare. The yacs config is written as
 * a plain dict (the writer has no classes), which the reader treats the same: as something not to read.
 *
 * <p>{@code fullOptimizer} writes AdamW's two moments for every trainable tensor (46.8M values each), which makes
 * the file about as large as the released {@code spai.pth} (~0.9 GB); otherwise only a few tensors get moments.
 */
final class FullShapeSpaiCheckpoint {
  private FullShapeSpaiCheckpoint() {}

  static final long SEED = 11;

  /** What was written: the file, and its model-tensor keys (used and unused). */
  record Written(Path file, List<String> modelKeys, List<String> unusedKeys, long bytes) {}

  static Written write(Path file, DType dtype, boolean fullOptimizer) throws IOException {
    SpaiConfig cfg = SpaiConfig.full();
    var expect = SpaiModel.expectation(cfg);
    Map<String, long[]> unused = unusedUpstreamTensors(cfg);
    List<String> modelKeys = new ArrayList<>();
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(file)) {
      Map<String, Object> model = new LinkedHashMap<>();
      for (Map.Entry<String, Shape> e : expect.shapes().entrySet()) {
        String k = e.getKey();
        long[] shape = e.getValue().getShape();
        if (expect.dataTypes().get(k) == DataType.INT64) {
          model.put(k, w.tensor(DType.I64, shape, FrequencyMask.generate(cfg.vit().imgSize(),
              cfg.fre().maskingRadius())));
        } else {
          model.put(k, w.tensor(dtype, shape, SpaiRandomInit.values(k, shape, SEED)));
        }
        modelKeys.add(k);
        // upstream's module order puts the unused ViT parts after the blocks; put them there too
        if (k.equals("mfvit.vit.blocks." + (cfg.vit().depth() - 1) + ".mlp.fc2.bias")) {
          for (Map.Entry<String, long[]> u : unused.entrySet()) {
            model.put(u.getKey(), w.tensor(dtype, u.getValue(), smallValues(u.getKey(), u.getValue())));
          }
        }
      }
      Map<Object, Object> state = new LinkedHashMap<>();
      List<Object> paramIndices = new ArrayList<>();
      int index = 0;
      for (Map.Entry<String, Shape> e : expect.shapes().entrySet()) {
        String k = e.getKey();
        if (k.startsWith("mfvit.vit.") || k.equals("mfvit.frequencies_mask")) {
          continue; // frozen backbone and the mask buffer: no optimizer state, as upstream
        }
        paramIndices.add(index);
        if (fullOptimizer || index < 3) {
          long[] shape = e.getValue().getShape();
          Map<String, Object> s = new LinkedHashMap<>();
          s.put("step", w.tensor(DType.F32, new long[0], new float[] {4200f}));
          s.put("exp_avg", w.tensor(DType.F32, shape, smallValues(k + "#m", shape)));
          s.put("exp_avg_sq", w.tensor(DType.F32, shape, smallValues(k + "#v", shape)));
          state.put(index, s);
        }
        index++;
      }
      Map<String, Object> group = new LinkedHashMap<>();
      group.put("lr", 2.5e-7);
      group.put("betas", List.of(0.9, 0.999));
      group.put("eps", 1e-8);
      group.put("weight_decay", 0.05);
      group.put("amsgrad", false);
      group.put("params", paramIndices);
      Map<String, Object> optimizer = new LinkedHashMap<>();
      optimizer.put("state", state);
      optimizer.put("param_groups", List.of(group));
      Map<String, Object> scheduler = new LinkedHashMap<>();
      scheduler.put("t_initial", 3500);
      scheduler.put("lr_min", 2.5e-7);
      scheduler.put("warmup_t", 500);
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("MODEL", Map.of("SID_APPROACH", "freq_restoration", "VIT", Map.of("EMBED_DIM", 768, "DEPTH", 12)));
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("model", TorchCheckpointWriter.orderedDict(model));
      root.put("optimizer", optimizer);
      root.put("lr_scheduler", scheduler);
      root.put("max_accuracy", 0.93);
      root.put("epoch", 12);
      root.put("config", config);
      w.finish(root);
    }
    return new Written(file, modelKeys, new ArrayList<>(unused.keySet()), java.nio.file.Files.size(file));
  }

  /**
   * The ViT's parts that upstream builds but SPAI's forward never runs ({@code build_vit} with
   * {@code use_mean_pooling=True}, intermediate layers, 2 classes): classifier over the concatenated layers, one
   * CLS-attention block, its position embedding and token, and the pooling norms.
   */
  static Map<String, long[]> unusedUpstreamTensors(SpaiConfig cfg) {
    long e = cfg.vit().embedDim();
    long h = cfg.vit().mlpHidden();
    long t = cfg.vit().tokens() + 1;
    Map<String, long[]> out = new LinkedHashMap<>();
    out.put("mfvit.vit.fc_norm.weight", new long[] {e});
    out.put("mfvit.vit.fc_norm.bias", new long[] {e});
    out.put("mfvit.vit.cls_pos_embed", new long[] {1, t, e});
    out.put("mfvit.vit.actual_cls_token", new long[] {1, 1, e});
    String b = "mfvit.vit.cls_blocks.0.";
    out.put(b + "norm1.weight", new long[] {e});
    out.put(b + "norm1.bias", new long[] {e});
    out.put(b + "attn.q_bias", new long[] {e});
    out.put(b + "attn.v_bias", new long[] {e});
    out.put(b + "attn.qkv.weight", new long[] {3 * e, e});
    out.put(b + "attn.proj.weight", new long[] {e, e});
    out.put(b + "attn.proj.bias", new long[] {e});
    out.put(b + "norm2.weight", new long[] {e});
    out.put(b + "norm2.bias", new long[] {e});
    out.put(b + "mlp.fc1.weight", new long[] {h, e});
    out.put(b + "mlp.fc1.bias", new long[] {h});
    out.put(b + "mlp.fc2.weight", new long[] {e, h});
    out.put(b + "mlp.fc2.bias", new long[] {e});
    for (int i = 0; i < cfg.fre().layers(); i++) {
      out.put("mfvit.vit.intermediate_fc_norm." + i + ".weight", new long[] {e});
      out.put("mfvit.vit.intermediate_fc_norm." + i + ".bias", new long[] {e});
    }
    out.put("mfvit.vit.head.weight", new long[] {2, e * cfg.fre().layers()});
    out.put("mfvit.vit.head.bias", new long[] {2});
    return out;
  }

  /** Cheap deterministic values of ~0.02 for tensors nobody computes with. */
  static float[] smallValues(String key, long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[Math.toIntExact(n)];
    SplittableRandom r = new SplittableRandom(key.hashCode());
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) ((r.nextDouble() - 0.5) * 0.04);
    }
    return v;
  }
}
