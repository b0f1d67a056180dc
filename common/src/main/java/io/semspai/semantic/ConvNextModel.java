package io.semspai.semantic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.bundle.StateDictLoader;
import io.semspai.checkpoint.StateDict;
import io.semspai.checkpoint.TorchCheckpoint;
import io.semspai.checkpoint.TorchTensor;
import io.semspai.nn.Placement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The ConvNeXt trunk with its weights: normalised 3×224×224 inputs in, semantic features (3072 in the full model)
 * out. Each call works in its own NDManager, closed before it returns; {@link #close()} frees the weights.
 */
public final class ConvNextModel implements AutoCloseable {
  public static final String COMPONENT = "convnext";
  public static final String FILE = "convnext.safetensors";

  /** Images per trunk call: a full-size 224 image needs up to ~63 MB of activations in fp32. */
  public static final int DEFAULT_BATCH = 8;

  /** Keys of an OpenCLIP checkpoint outside the trunk: projection, text tower, logit scale. Skipped, not errors. */
  public static final Predicate<String> UNUSED_OPEN_CLIP_KEYS = key -> !key.startsWith(ConvNextNetwork.PREFIX);

  private final ConvNextConfig cfg;
  private final ConvNextNetwork network;
  private final NDManager weights;
  private final Placement placement;

  private ConvNextModel(ConvNextConfig cfg, ConvNextNetwork network, NDManager weights, Placement placement) {
    this.cfg = cfg;
    this.network = network;
    this.weights = weights;
    this.placement = placement;
  }

  public static StateDictLoader.Expectation expectation(ConvNextConfig cfg) {
    ConvNextNetwork net = new ConvNextNetwork(cfg);
    return new StateDictLoader.Expectation(net.stateShapes(), net.stateDataTypes(), UNUSED_OPEN_CLIP_KEYS);
  }

  /** Loads the {@code convnext} component of a bundle on the CPU in float32. */
  public static ConvNextModel load(ModelBundle bundle) throws BundleException {
    return load(bundle, Placement.CPU);
  }

  /**
   * Loads the {@code convnext} component of a bundle, verifying its checksum and every key and shape, onto the
   * placement's device in its precision.
   */
  public static ConvNextModel load(ModelBundle bundle, Placement placement) throws BundleException {
    BundleManifest.Component c = bundle.component(COMPONENT);
    ConvNextConfig cfg;
    try {
      cfg = new ObjectMapper().treeToValue(c.architecture(), ConvNextConfig.class);
    } catch (IOException | IllegalArgumentException e) {
      throw new BundleException(bundle.dir(), COMPONENT, "architecture is not a valid ConvNeXt config: "
          + rootMessage(e), e);
    }
    NDManager manager = placement.newManager();
    try {
      return build(cfg, manager, bundle.load(COMPONENT, expectation(cfg), manager), placement);
    } catch (BundleException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** A bare safetensors state dict under OpenCLIP key names (other OpenCLIP tensors are skipped). */
  public static ConvNextModel fromSafetensors(ConvNextConfig cfg, Path file) throws IOException {
    NDManager manager = Placement.CPU.newManager();
    try {
      return build(cfg, manager, StateDictLoader.load(file, null, expectation(cfg), manager), Placement.CPU);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * OpenCLIP's own {@code open_clip_pytorch_model.bin} (a {@code torch.save} state dict): the {@code visual.trunk.*}
   * tensors are read one at a time (fp16/bf16 widened to fp32), everything else is skipped.
   */
  public static ConvNextModel fromTorchCheckpoint(ConvNextConfig cfg, Path file) throws IOException {
    StateDictLoader.Expectation expect = expectation(cfg);
    NDManager manager = Placement.CPU.newManager();
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      StateDict sd = ckpt.stateDict();
      List<String> problems = new ArrayList<>();
      for (Map.Entry<String, Shape> e : expect.shapes().entrySet()) {
        TorchTensor t = sd.get(e.getKey());
        if (t == null) {
          problems.add("missing " + e.getKey());
        } else if (!new Shape(t.shape()).equals(e.getValue())) {
          problems.add(e.getKey() + " is " + new Shape(t.shape()) + ", expected " + e.getValue());
        }
      }
      if (!problems.isEmpty()) {
        throw new IOException(file + ": not a ConvNeXt trunk of this config: " + (problems.size() > 12
            ? problems.subList(0, 12) + " … " + (problems.size() - 12) + " more" : problems));
      }
      Map<String, NDArray> state = new LinkedHashMap<>();
      for (Map.Entry<String, Shape> e : expect.shapes().entrySet()) {
        // libtorch's copy, so the direct buffer DJL made from the floats can go (see StateDictLoader.loadLarge)
        try (NDArray view = manager.create(sd.get(e.getKey()).toFloats(), e.getValue())) {
          state.put(e.getKey(), view.duplicate());
        }
      }
      return build(cfg, manager, state, Placement.CPU);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  private static ConvNextModel build(ConvNextConfig cfg, NDManager manager, Map<String, NDArray> state,
      Placement placement) {
    ConvNextNetwork net = new ConvNextNetwork(cfg);
    net.loadState(state, placement);
    return new ConvNextModel(cfg, net, manager, placement);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  public ConvNextConfig config() {
    return cfg;
  }

  public ConvNextNetwork network() {
    return network;
  }

  /** The device and precision the weights live in. */
  public Placement placement() {
    return placement;
  }

  /**
   * Semantic features of {@code n} inputs packed in {@code inputs} (n·3·S·S floats, as {@link SemanticInput}
   * makes them), at most {@code batch} images per trunk call. Returns n×C, row-major.
   */
  public float[] features(float[] inputs, int n, int batch) {
    int s = cfg.inputSize();
    int length = 3 * s * s;
    if (inputs.length != (long) n * length) {
      throw new IllegalArgumentException("expected " + n + "·3·" + s + "² floats, got " + inputs.length);
    }
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be positive, got " + batch);
    }
    int c = cfg.featureDim();
    float[] out = new float[n * c];
    try (NDManager m = weights.newSubManager()) {
      for (int start = 0; start < n; start += batch) {
        int k = Math.min(batch, n - start);
        float[] chunk = new float[k * length];
        System.arraycopy(inputs, start * length, chunk, 0, k * length);
        try (NDManager scope = m.newSubManager()) {
          NDArray f = network.features(null, scope.create(chunk, new Shape(k, 3, s, s)), false);
          System.arraycopy(Placement.toHost(f), 0, out, start * c, k * c);
        }
      }
    }
    return out;
  }

  /** Features of one input (3·S·S floats). */
  public float[] features(float[] input) {
    return features(input, 1, 1);
  }

  /**
   * A rough upper bound of the native bytes one image needs in the trunk in fp32: the first stage's block
   * intermediates (MLP hidden at 4× channels, conv and norm outputs, residual) dominate. Full preset: ~63 MB.
   */
  public static long estimatedActivationBytesPerImage(ConvNextConfig cfg) {
    return estimatedActivationBytesPerImage(cfg, Placement.Precision.FP32);
  }

  /** {@link #estimatedActivationBytesPerImage(ConvNextConfig)} at {@code precision}'s bytes per element. */
  public static long estimatedActivationBytesPerImage(ConvNextConfig cfg, Placement.Precision precision) {
    long side = cfg.inputSize() / cfg.stem().stride();
    long worst = 0;
    for (int i = 0; i < cfg.stages(); i++) {
      long px = (side >> i) * (side >> i);
      long perBlock = px * cfg.dims().get(i) * (2L * cfg.mlpRatio() + 5);
      worst = Math.max(worst, perBlock);
    }
    return precision.bytes() * worst;
  }

  NDManager weightsManager() {
    return weights;
  }

  @Override
  public void close() {
    weights.close();
  }
}
