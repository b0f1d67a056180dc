package io.semspai.nn;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.semspai.config.ConfigException;
import io.semspai.config.Settings;
import java.util.Locale;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a model runs and in which precision: the one parser of {@code engine.device} / {@code --device} and
 * {@code engine.precision} / {@code --precision}, used by every entry point that builds models.
 *
 * <p>Weights are loaded onto {@link #device()} and, for floating-point tensors, cast to {@link #dataType()} once at
 * load ({@link TorchModule#loadState(java.util.Map, Placement)}); every array a forward creates comes from a manager
 * on that device. SPAI's FFT and the FRE's similarity statistics stay in float32 whatever the precision (see
 * docs/engine.md), and every feature and logit handed back to Java is float32.
 */
public record Placement(Device device, Precision precision) {
  public static final String DEVICE_KEY = "engine.device";
  public static final String PRECISION_KEY = "engine.precision";

  /** The default: CPU, float32. Explicitly the CPU, not DJL's default device (which is GPU 0 on a CUDA host). */
  public static final Placement CPU = new Placement(Device.cpu(), Precision.FP32);

  private static final Pattern GPU = Pattern.compile("gpu(\\d{0,3})");

  /** The dtype of weights and activations; the FFT is float32 regardless. */
  public enum Precision {
    FP32(DataType.FLOAT32, 4),
    FP16(DataType.FLOAT16, 2),
    /**
     * Recognised so the refusal can say why: DJL 0.36's PyTorch bridge maps only float32/64, float16 and the integer
     * types to libtorch dtypes; asking it for a bfloat16 tensor (cast, zeros or from a buffer) ends the JVM in
     * {@code std::terminate} (checked on CPU; the CUDA flavour uses the same bridge code).
     */
    BF16(DataType.BFLOAT16, 2);

    private final DataType dataType;
    private final int bytes;

    Precision(DataType dataType, int bytes) {
      this.dataType = dataType;
      this.bytes = bytes;
    }

    public DataType dataType() {
      return dataType;
    }

    /** Bytes per element of weights and activations in this precision. */
    public int bytes() {
      return bytes;
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Strict: exactly {@code fp32}, {@code fp16} or {@code bf16} (any case); {@code name} labels errors. */
    static Precision parse(String s, String name) {
      return switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "fp32" -> FP32;
        case "fp16" -> FP16;
        case "bf16" -> BF16;
        default -> throw new IllegalArgumentException(name + " '" + s + "' must be fp32, fp16 or bf16");
      };
    }
  }

  public Placement {
    if (device == null || precision == null) {
      throw new IllegalArgumentException("device and precision are required");
    }
  }

  /**
   * Parses a device ({@code cpu}, {@code gpu} = {@code gpu0}, {@code gpuN}) and a precision, checking that libtorch
   * sees the GPU and that the precision can run through DJL. The names ({@code engine.device}, {@code --device})
   * start the error messages, so they say which setting to change.
   *
   * @throws IllegalArgumentException with a message naming the setting, the value and what to do
   */
  public static Placement parse(String device, String deviceName, String precision, String precisionName) {
    return parse(device, deviceName, precision, precisionName, () -> Engine.getInstance().getGpuCount());
  }

  /** {@link #parse(String, String, String, String)} with the GPU count supplied; only asked for a GPU device. */
  static Placement parse(String device, String deviceName, String precision, String precisionName,
      IntSupplier gpusSeen) {
    Precision p = Precision.parse(precision, precisionName);
    if (p == Precision.BF16) {
      throw new IllegalArgumentException(precisionName + " bf16 is not available in this build: DJL 0.36's PyTorch "
          + "bridge has no bfloat16 dtype (creating a bfloat16 tensor aborts the process); use fp16 or fp32 "
          + "(docs/gpu.md)");
    }
    String d = device.trim().toLowerCase(Locale.ROOT);
    if (d.equals("cpu")) {
      return new Placement(Device.cpu(), p);
    }
    Matcher m = GPU.matcher(d);
    if (!m.matches()) {
      throw new IllegalArgumentException(deviceName + " '" + device + "' must be cpu, gpu or gpuN (gpu0, gpu1, …)");
    }
    int index = m.group(1).isEmpty() ? 0 : Integer.parseInt(m.group(1));
    int seen = gpusSeen.getAsInt();
    if (index >= seen) {
      throw new IllegalArgumentException(deviceName + " gpu" + index + ": libtorch sees " + seen + " GPU"
          + (seen == 1 ? "" : "s") + " (" + libtorchFlavour() + "); running on a GPU needs the CUDA libtorch, see "
          + "docs/gpu.md");
    }
    return new Placement(Device.gpu(index), p);
  }

  /** {@code engine.device} and {@code engine.precision} (defaults cpu, fp32). */
  public static Placement fromSettings(Settings settings) {
    try {
      return parse(settings.string(DEVICE_KEY, "cpu"), "config " + DEVICE_KEY, settings.string(PRECISION_KEY, "fp32"),
          "config " + PRECISION_KEY);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  /** Which libtorch DJL loaded, for error messages: version and the folder, whose name carries the flavour. */
  static String libtorchFlavour() {
    try {
      Engine engine = Engine.getInstance();
      String path = ai.djl.pytorch.jni.LibUtils.getLibtorchPath();
      boolean cpuOnly = path != null && path.contains("-cpu-");
      return "loaded: " + engine.getEngineName() + " " + engine.getVersion() + " from " + path
          + (cpuOnly ? ", the CPU-only build from the pytorch-native-cpu jar" : "");
    } catch (RuntimeException | LinkageError e) {
      return "libtorch could not be inspected: " + e.getMessage();
    }
  }

  public boolean onGpu() {
    return device.isGpu();
  }

  public DataType dataType() {
    return precision.dataType();
  }

  /** A new base manager on this placement's device; sub-managers inherit the device. */
  public NDManager newManager() {
    return NDManager.newBaseManager(device);
  }

  /** {@code gpu0 fp16}, {@code cpu fp32}: what start-up logs print. */
  public String describe() {
    return (onGpu() ? "gpu" + device.getDeviceId() : "cpu") + " " + precision.label();
  }

  /** The array's values as float32 on the host: the one copy back per result, whatever the model's precision. */
  public static float[] toHost(NDArray array) {
    return array.toType(DataType.FLOAT32, false).toFloatArray();
  }
}
