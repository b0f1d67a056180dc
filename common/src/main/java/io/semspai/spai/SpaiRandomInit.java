package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.semspai.bundle.Safetensors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random weights whose outputs spread (spec §6 "Test weights"). Upstream's own initialisation leaves every
 * score near 0.497, which makes a bundle useless for checking anything, so instead:
 *
 * <ul>
 *   <li>Linear and conv weights ~ N(0, 1/fan_in), so activations keep their scale through the depth;
 *   <li>LayerNorm weights ~ 1 + N(0, 0.05²), biases (q/v biases too) ~ N(0, 0.02²);
 *   <li>{@code cls_token}, {@code pos_embed} ~ N(0, 0.02²); {@code patch_aggregator} and {@code alpha} ~ N(0, 1),
 *       so attention and layer weights are far from uniform;
 *   <li>the last head layer is drawn like any Linear, then scaled after a calibration forward pass so the logits
 *       of fixed synthetic images spread with a standard deviation of 1.5, its bias centring them on 0;
 *   <li>{@code frequencies_mask} is generated as upstream does.
 * </ul>
 *
 * Each tensor draws from its own generator seeded by (seed, key), so a tensor's values do not depend on which
 * other tensors exist, and the stream is the same on every JVM (Box–Muller over {@link SplittableRandom}).
 */
public final class SpaiRandomInit {
  private SpaiRandomInit() {}

  static final String LAST_HEAD_WEIGHT = "cls_head.head.6.weight";
  static final String LAST_HEAD_BIAS = "cls_head.head.6.bias";

  /** The tensors of a SPAI state dict in writing order, with their safetensors types. */
  public static List<Safetensors.TensorSpec> specs(SpaiConfig cfg) {
    SpaiNetwork net = new SpaiNetwork(cfg);
    Map<String, Shape> shapes = net.stateShapes();
    Map<String, DataType> types = net.stateDataTypes();
    List<Safetensors.TensorSpec> out = new ArrayList<>();
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      Safetensors.DType dt = types.get(e.getKey()) == DataType.INT64 ? Safetensors.DType.I64 : Safetensors.DType.F32;
      out.add(new Safetensors.TensorSpec(e.getKey(), dt, e.getValue().getShape()));
    }
    return out;
  }

  /**
   * Writes every tensor of {@link #specs} to {@code writer}, one at a time, keeping a native copy to run the
   * network once all but the last head layer exist: that layer is then scaled so the logits of a fixed set of
   * synthetic patches have a standard deviation of {@link #TARGET_LOGIT_STD}, and its bias centres them on 0.
   * Scale and offset are rounded to two significant digits so the bytes do not depend on the last bits of a
   * particular CPU's kernels.
   */
  public static void write(SpaiConfig cfg, long seed, Safetensors.Writer writer) throws IOException {
    List<Safetensors.TensorSpec> specs = specs(cfg);
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> state = new LinkedHashMap<>();
      float[] lastWeight = null;
      for (Safetensors.TensorSpec s : specs) {
        Shape shape = new Shape(s.shape());
        if (s.dtype() == Safetensors.DType.I64) {
          long[] mask = FrequencyMask.generate(cfg.vit().imgSize(), cfg.fre().maskingRadius());
          writer.writeLongs(s.name(), mask);
          state.put(s.name(), m.create(mask, shape));
        } else if (s.name().equals(LAST_HEAD_WEIGHT)) {
          lastWeight = values(s.name(), s.shape(), seed);
          state.put(s.name(), m.create(lastWeight, shape));
        } else if (s.name().equals(LAST_HEAD_BIAS)) {
          state.put(s.name(), m.zeros(shape));
        } else {
          float[] v = values(s.name(), s.shape(), seed);
          writer.writeFloats(s.name(), v);
          state.put(s.name(), m.create(v, shape));
        }
      }
      if (!specs.get(specs.size() - 2).name().equals(LAST_HEAD_WEIGHT)
          || !specs.get(specs.size() - 1).name().equals(LAST_HEAD_BIAS)) {
        throw new IllegalStateException("the last head layer must come last in the state dict");
      }
      SpaiNetwork net = new SpaiNetwork(cfg);
      net.load(state);
      float[] raw = calibrationLogits(net, m);
      double mean = 0;
      for (float v : raw) {
        mean += v / raw.length;
      }
      double var = 0;
      for (float v : raw) {
        var += (v - mean) * (v - mean) / (raw.length - 1);
      }
      double scale = twoDigits(TARGET_LOGIT_STD / Math.max(Math.sqrt(var), 1e-6));
      float[] w = lastWeight;
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) (w[i] * scale);
      }
      writer.writeFloats(LAST_HEAD_WEIGHT, w);
      writer.writeFloats(LAST_HEAD_BIAS, new float[] {(float) -twoDigits(mean * scale)});
    }
  }

  /** Logit spread a random-init bundle aims at across images (spec §6 "Test weights"). */
  public static final double TARGET_LOGIT_STD = 1.5;

  private static double twoDigits(double v) {
    if (v == 0) {
      return 0;
    }
    return new java.math.BigDecimal(v).round(new java.math.MathContext(2)).doubleValue();
  }

  /** Logits of eight fixed synthetic single-patch images (gradients, stripes, checkers, noise). */
  static float[] calibrationLogits(SpaiNetwork net, NDManager parent) {
    int s = net.config().patch().size();
    int n = 8;
    float[] pixels = new float[n * 3 * s * s];
    SplittableRandom noise = new SplittableRandom(20241129L);
    for (int k = 0; k < n; k++) {
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < s; y++) {
          for (int x = 0; x < s; x++) {
            double v = switch (k) {
              case 0 -> (x + c * 30) / (double) (s + 60);
              case 1 -> ((x / 4 + y / 4) % 2 == 0) ? 0.9 - 0.2 * c : 0.1;
              case 2 -> 0.5 + 0.45 * Math.sin(x * 0.7 + c) * Math.cos(y * 0.11);
              case 3 -> noise.nextDouble();
              case 4 -> ((y / 16) % 2 == 0) ? 0.2 + 0.3 * c : 0.8;
              case 5 -> 0.5 + 0.3 * Math.sin((x * x + y * y) * 0.002) + 0.1 * noise.nextDouble();
              case 6 -> Math.min(1, Math.abs(x - y) / 64.0) * (0.4 + 0.2 * c);
              default -> ((x * 7 + y * 13 + c * 5) % 17) / 16.0;
            };
            pixels[((k * 3 + c) * s + y) * s + x] = (float) v;
          }
        }
      }
    }
    float[] logits = new float[n];
    try (NDManager m = parent.newSubManager()) {
      NDArray features = net.encodePatches(null, m.create(pixels, new Shape(n, 3, s, s)), false);
      for (int k = 0; k < n; k++) {
        try (SpaiNetwork.Aggregation a = net.aggregate(null, features.get(k + ":" + (k + 1)), false)) {
          logits[k] = net.classify(null, a.feature(), false).getFloat(0);
        }
      }
    }
    return logits;
  }

  /** The values of one float tensor. */
  public static float[] values(String key, long[] shape, long seed) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] out = new float[Math.toIntExact(n)];
    Gaussian g = new Gaussian(new SplittableRandom(mix(seed, key)));
    String leaf = key.substring(key.lastIndexOf('.') + 1);
    double mean = 0;
    double std;
    if (key.endsWith("patch_aggregator") || leaf.equals("alpha")) {
      std = 1.0;
    } else if (leaf.equals("cls_token") || leaf.equals("pos_embed")) {
      std = 0.02;
    } else if (leaf.equals("weight") && shape.length == 1) { // LayerNorm
      mean = 1.0;
      std = 0.05;
    } else if (leaf.equals("bias") || leaf.equals("q_bias") || leaf.equals("v_bias")) {
      std = 0.02;
    } else if (leaf.equals("weight")) { // Linear out×in or conv out×in×k×k
      long fanIn = 1;
      for (int i = 1; i < shape.length; i++) {
        fanIn *= shape[i];
      }
      std = 1.0 / Math.sqrt(fanIn);
    } else {
      throw new IllegalArgumentException("no initialisation rule for " + key);
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (mean + std * g.next());
    }
    return out;
  }

  private static long mix(long seed, String key) {
    long z = seed * 0x9E3779B97F4A7C15L + key.hashCode();
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Box–Muller normal deviates; specified here so the values never depend on the JDK. */
  private static final class Gaussian {
    private final SplittableRandom r;
    private double spare;
    private boolean hasSpare;

    Gaussian(SplittableRandom r) {
      this.r = r;
    }

    double next() {
      if (hasSpare) {
        hasSpare = false;
        return spare;
      }
      double u1 = 1.0 - r.nextDouble(); // (0, 1]
      double u2 = r.nextDouble();
      double radius = Math.sqrt(-2.0 * StrictMath.log(u1));
      spare = radius * StrictMath.sin(2 * Math.PI * u2);
      hasSpare = true;
      return radius * StrictMath.cos(2 * Math.PI * u2);
    }
  }
}
