package io.semspai.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.semspai.config.ConfigException;
import io.semspai.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one device/precision parser: what it accepts, and what each refusal tells the user. */
class PlacementTest {
  private static Placement parse(String device, String precision, int gpus) {
    return Placement.parse(device, "--device", precision, "--precision", () -> gpus);
  }

  @Test
  void acceptsCpuGpuAndGpuNWithFp32AndFp16() {
    assertEquals(new Placement(Device.cpu(), Placement.Precision.FP32), parse("cpu", "fp32", 0));
    assertEquals(new Placement(Device.cpu(), Placement.Precision.FP16), parse(" CPU ", "FP16", 0));
    assertEquals(new Placement(Device.gpu(0), Placement.Precision.FP16), parse("gpu", "fp16", 1));
    assertEquals(new Placement(Device.gpu(2), Placement.Precision.FP32), parse("gpu2", "fp32", 4));
    assertEquals(DataType.FLOAT16, parse("gpu0", "fp16", 1).dataType());
    assertEquals("gpu2 fp16", parse("gpu2", "fp16", 3).describe());
    assertEquals("cpu fp32", Placement.CPU.describe());
  }

  @Test
  void refusesMalformedValuesNamingTheOption() {
    for (String bad : new String[] {"cuda", "gpu-1", "gpu 1", "gpux", "", "tpu0"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> parse(bad, "fp32", 8), bad);
      assertTrue(e.getMessage().startsWith("--device '" + bad + "' must be cpu, gpu or gpuN"), e.getMessage());
    }
    for (String bad : new String[] {"half", "float16", "fp8", "32"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> parse("cpu", bad, 0), bad);
      assertEquals("--precision '" + bad + "' must be fp32, fp16 or bf16", e.getMessage());
    }
  }

  @Test
  void refusesBf16BeforeAnyTensorIsMade() {
    // DJL 0.36's bridge would end the JVM on the first bfloat16 tensor, so the parser is the last safe place
    var e = assertThrows(IllegalArgumentException.class, () -> parse("gpu0", "bf16", 1));
    assertTrue(e.getMessage().contains("bf16 is not available") && e.getMessage().contains("use fp16"),
        e.getMessage());
  }

  @Test
  void aGpuLibtorchDoesNotSeeSaysHowManyItSeesWhichLibtorchAndWhereToRead() {
    var e = assertThrows(IllegalArgumentException.class, () -> parse("gpu1", "fp16", 1));
    assertTrue(e.getMessage().startsWith("--device gpu1: libtorch sees 1 GPU ("), e.getMessage());
    assertTrue(e.getMessage().contains("docs/gpu.md"), e.getMessage());
    // the real engine of this build: the CPU jar, no GPU
    var real = assertThrows(ConfigException.class,
        () -> Placement.fromSettings(Settings.of(Map.of("engine.device", "gpu0"))));
    assertTrue(real.getMessage().startsWith("config engine.device gpu0: libtorch sees 0 GPUs (loaded: PyTorch 2.7.1"),
        real.getMessage());
    assertTrue(real.getMessage().contains("CPU-only build"), real.getMessage());
  }

  @Test
  void settingsDefaultToCpuFp32AndNameTheKeyInErrors() {
    assertEquals(Placement.CPU, Placement.fromSettings(Settings.of(Map.of())));
    assertEquals(new Placement(Device.cpu(), Placement.Precision.FP16),
        Placement.fromSettings(Settings.of(Map.of("engine.device", "cpu", "engine.precision", "fp16"))));
    var e = assertThrows(ConfigException.class,
        () -> Placement.fromSettings(Settings.of(Map.of("engine.precision", "fp64"))));
    assertEquals("config engine.precision 'fp64' must be fp32, fp16 or bf16", e.getMessage());
  }
}
