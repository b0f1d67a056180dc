package io.semspai.trainer;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.FusionHead;
import io.semspai.spai.SpaiResult;
import java.util.List;
import java.util.Map;

/**
 * Scores cached features with a fusion head given by its weights (a champion's {@code headState()}, a trainer's
 * result): eval mode, dropout off, so the same features always give the same logits, equal to what
 * {@code SemSpaiModel.fusedLogits} gives for a model carrying that head. Scores are the detector's: the float32
 * sigmoid of the fused logit ({@link SpaiResult#sigmoid}), promoted to double, so thresholds chosen on them mean
 * the same thing on verdicts. Not thread-safe; close it to free the head's native memory.
 */
public final class HeadScorer implements AutoCloseable {
  /** Examples per forward call: bounds the activations of a large holdout. */
  static final int CHUNK = 512;

  private final FusionConfig cfg;
  private final NDManager manager;
  private final FusionHead head;

  public HeadScorer(FusionConfig cfg, Map<String, float[]> state) {
    this.cfg = cfg;
    this.manager = io.semspai.nn.Placement.CPU.newManager(); // head training and its scoring stay on the CPU in fp32
    try {
      this.head = FusionHead.of(cfg, state, manager);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Scores of {@code examples} (sigmoid of the fused logit), in order. */
  public static double[] scores(FusionConfig cfg, Map<String, float[]> state, List<TrainingExample> examples) {
    try (HeadScorer s = new HeadScorer(cfg, state)) {
      return s.scores(examples);
    }
  }

  public double[] scores(List<TrainingExample> examples) {
    float[] logits = logits(examples);
    double[] out = new double[logits.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = score(logits[i]);
    }
    return out;
  }

  /** The fused logits of {@code examples}, in order. */
  public float[] logits(List<TrainingExample> examples) {
    return logits(head, cfg, manager, examples);
  }

  /** The detector's score for a fused logit. */
  public static double score(float logit) {
    return SpaiResult.sigmoid(logit);
  }

  /** Eval-mode logits of a head, in chunks, in sub-managers of {@code manager}. */
  static float[] logits(FusionHead head, FusionConfig cfg, NDManager manager, List<TrainingExample> examples) {
    int n = examples.size();
    float[] out = new float[n];
    int d = cfg.spectralDim();
    int s = cfg.semanticDim();
    for (int from = 0; from < n; from += CHUNK) {
      int to = Math.min(n, from + CHUNK);
      int b = to - from;
      float[] sp = new float[b * d];
      float[] se = new float[b * s];
      for (int i = 0; i < b; i++) {
        TrainingExample e = examples.get(from + i);
        checkWidths(e, cfg);
        System.arraycopy(e.spectral(), 0, sp, i * d, d);
        System.arraycopy(e.semantic(), 0, se, i * s, s);
      }
      try (NDManager m = manager.newSubManager()) {
        float[] l = head.forward(null, m.create(sp, new Shape(b, d)), m.create(se, new Shape(b, s)), false)
            .toType(DataType.FLOAT32, false).toFloatArray();
        System.arraycopy(l, 0, out, from, b);
      }
    }
    return out;
  }

  static void checkWidths(TrainingExample e, FusionConfig cfg) {
    if (e.spectral().length != cfg.spectralDim() || e.semantic().length != cfg.semanticDim()) {
      throw new IllegalArgumentException("example " + e.key() + " has " + e.spectral().length + " spectral and "
          + e.semantic().length + " semantic values; this head takes " + cfg.spectralDim() + " and "
          + cfg.semanticDim() + " (features from other backbones?)");
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
