package io.semspai.semantic;

import ai.djl.ndarray.types.Shape;
import io.semspai.bundle.Safetensors;
import io.semspai.spai.SpaiRandomInit;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Seeded random trunk weights for {@code model init}, drawn like SPAI's random bundles ({@link SpaiRandomInit}:
 * conv and Linear ~ N(0, 1/fan_in), LayerNorm weights ~ 1 + N(0, 0.05²), biases ~ N(0, 0.02²), one generator per
 * tensor seeded by (seed, key)), plus the layer scale {@code gamma} ~ 0.5 + N(0, 0.05²). timm starts {@code gamma}
 * at 1e-6, which makes every block an identity and every image's feature nearly the same; 0.5 lets the blocks
 * matter so random features differ between images. Random trunks see nothing; they exist for tests and benchmarks.
 *
 * <p>Written one tensor at a time: the full trunk (843M parameters, ~3.4 GB) needs no more heap than its largest
 * tensor (stage 3's {@code mlp.fc1.weight}, 12288×3072, 151 MB).
 */
public final class ConvNextRandomInit {
  private ConvNextRandomInit() {}

  public static List<Safetensors.TensorSpec> specs(ConvNextConfig cfg) {
    List<Safetensors.TensorSpec> out = new ArrayList<>();
    for (Map.Entry<String, Shape> e : new ConvNextNetwork(cfg).stateShapes().entrySet()) {
      out.add(new Safetensors.TensorSpec(e.getKey(), Safetensors.DType.F32, e.getValue().getShape()));
    }
    return out;
  }

  public static void write(ConvNextConfig cfg, long seed, Safetensors.Writer writer) throws IOException {
    for (Safetensors.TensorSpec s : specs(cfg)) {
      writer.writeFloats(s.name(), values(s.name(), s.shape(), seed));
    }
  }

  public static float[] values(String key, long[] shape, long seed) {
    if (key.endsWith(".gamma")) {
      // a bias-rule draw, N(0, 0.02²), from the generator of the (unused) key "<key>.bias", rescaled
      float[] v = SpaiRandomInit.values(key + ".bias", shape, seed);
      for (int i = 0; i < v.length; i++) {
        v[i] = 0.5f + 2.5f * v[i];
      }
      return v;
    }
    return SpaiRandomInit.values(key, shape, seed);
  }

  /** Trunk parameters of a config (843,398,016 for the full one). */
  public static long parameterCount(ConvNextConfig cfg) {
    long n = 0;
    for (Shape s : new ConvNextNetwork(cfg).stateShapes().values()) {
      n += s.size();
    }
    return n;
  }
}
