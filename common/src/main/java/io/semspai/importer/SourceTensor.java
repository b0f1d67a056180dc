package io.semspai.importer;

/**
 * One tensor of a checkpoint being imported, whatever the file format: its key, saved element type and shape, and
 * its data, read from the file only when asked for (one tensor at a time, so an import never holds a whole
 * checkpoint in memory).
 */
public interface SourceTensor {
  String key();

  /** The saved element type, spelled as safetensors does: {@code F32}, {@code F16}, {@code BF16}, {@code I64}… */
  String dtype();

  long[] shape();

  boolean isFloating();

  /** The elements as float32 (fp16 and bf16 widen exactly), row-major. */
  float[] readFloats() throws java.io.IOException;

  /** The elements as longs; floating elements must be integral. */
  long[] readLongs() throws java.io.IOException;

  default long numel() {
    long n = 1;
    for (long d : shape()) {
      n *= d;
    }
    return n;
  }
}
