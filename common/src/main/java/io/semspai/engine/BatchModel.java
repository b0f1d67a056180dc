package io.semspai.engine;

import io.semspai.image.RgbImage;
import java.util.List;

/**
 * A loaded model as the engine drives it: images are prepared on the callers' threads, then run in batches on the
 * engine's worker. Implementations are not thread-safe (DJL predictors and blocks are not); the engine calls
 * {@link #run} from one thread at a time.
 */
public interface BatchModel extends AutoCloseable {
  /** The version recorded on every verdict this model produces. */
  String version();

  /** Cuts the image the way the model's input policy says. Thread-safe and cheap next to {@link #run}. */
  Prepared prepare(RgbImage image);

  /**
   * Scores a batch. The SPAI patches of all images go through the encoder together, in chunks of at most
   * {@code maxPatches}; the results come back in the batch's order.
   */
  List<ModelOutput> run(List<Prepared> batch, int maxPatches, StageTimes times);

  /** Bytes one patch needs while it is encoded (activations), for the engine's memory budget. */
  long bytesPerPatch();

  /** The device and precision the model runs in. */
  io.semspai.nn.Placement placement();

  @Override
  void close();

  /**
   * An image ready for the model.
   *
   * @param patches the SPAI patches, with their boxes
   * @param semanticInput the semantic branch's normalised 3×224×224 input, or null in spectral mode
   */
  record Prepared(int width, int height, io.semspai.spai.SpaiPatches patches, float[] semanticInput) {
    /** Heap bytes this prepared image holds. */
    public long bytes() {
      return 4L * patches.pixels().length + (semanticInput == null ? 0 : 4L * semanticInput.length);
    }
  }
}
