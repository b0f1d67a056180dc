package io.semspai.spai;

import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.semspai.bundle.Safetensors;
import java.io.IOException;
import java.util.ArrayList;
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
 *   <li>the last head layer ~ N(0, 9/fan_in) with zero bias: a unit-scale feature through two ReLU layers keeps a
 *       second moment of about 1/4, so logits get a standard deviation of about √(9/4) = 1.5;
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

  /** Writes every tensor of {@link #specs} to {@code writer}, one at a time. */
  public static void write(SpaiConfig cfg, long seed, Safetensors.Writer writer) throws IOException {
    for (Safetensors.TensorSpec s : specs(cfg)) {
      if (s.dtype() == Safetensors.DType.I64) {
        writer.writeLongs(s.name(), FrequencyMask.generate(cfg.vit().imgSize(), cfg.fre().maskingRadius()));
      } else {
        writer.writeFloats(s.name(), values(s.name(), s.shape(), seed));
      }
    }
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
    if (key.equals(LAST_HEAD_WEIGHT)) {
      std = 3.0 / Math.sqrt(shape[1]);
    } else if (key.equals(LAST_HEAD_BIAS)) {
      std = 0;
    } else if (key.endsWith("patch_aggregator") || leaf.equals("alpha")) {
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
