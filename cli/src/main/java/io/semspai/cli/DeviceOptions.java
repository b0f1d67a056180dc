package io.semspai.cli;

import io.semspai.nn.Placement;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --precision} for the commands that build models; parsed by {@link Placement}. */
final class DeviceOptions {
  @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
      description = "cpu, gpu or gpuN (default ${DEFAULT-VALUE}); a GPU needs the CUDA libtorch, see docs/gpu.md.")
  String device;

  @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|fp16",
      description = "Precision of the ViT, the ConvNeXt and the heads (default ${DEFAULT-VALUE}); SPAI's FFT always "
          + "runs in fp32. bf16 is refused: DJL 0.36 cannot make bfloat16 tensors.")
  String precision;

  /** The parsed placement; a bad value or a GPU that is not there is a one-line user error (exit 2). */
  Placement placement() {
    try {
      return Placement.parse(device, "--device", precision, "--precision");
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }
}
