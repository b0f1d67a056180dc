package io.semspai.spai;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.semspai.nn.TorchModule;
import java.util.ArrayList;
import java.util.List;

/**
 * Upstream {@code MFViT} ({@code mfvit}): the patch encoder. For N patches in [0,1] it splits each into low- and
 * high-frequency images with the circular mask, ImageNet-normalises the three images separately, runs all 3N
 * through the ViT in one batch and turns the intermediate block outputs into N patch features with the FRE.
 */
public final class MfVit extends TorchModule {
  private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  private final SpaiConfig cfg;
  private final VisionTransformer vit;
  private final FrequencyRestorationEstimator fre;
  private final Parameter frequenciesMask;
  private NDArray passBand;
  private NDArray stopBand;

  public MfVit(SpaiConfig cfg) {
    this.cfg = cfg;
    vit = module("vit", new VisionTransformer(cfg.vit()));
    fre = module("features_processor", new FrequencyRestorationEstimator(cfg));
    int s = cfg.vit().imgSize();
    frequenciesMask = param("frequencies_mask", new Shape(s, s), Parameter.Type.OTHER, DataType.INT64);
  }

  public VisionTransformer vit() {
    return vit;
  }

  public FrequencyRestorationEstimator featuresProcessor() {
    return fre;
  }

  /**
   * Derives the float pass and stop bands (in unshifted FFT order) from the loaded int64 mask. Called once after
   * the weights are loaded; the bands live in the weights' manager.
   */
  synchronized void prepare() {
    if (passBand != null) {
      return;
    }
    NDArray mask = frequenciesMask.getArray();
    NDManager m = mask.getManager();
    int s = cfg.vit().imgSize();
    float[] unshifted = FrequencyMask.unshifted(mask.toLongArray(), s);
    float[] inverse = new float[unshifted.length];
    for (int i = 0; i < inverse.length; i++) {
      inverse[i] = 1f - unshifted[i];
    }
    passBand = m.create(unshifted, new Shape(s, s));
    stopBand = m.create(inverse, new Shape(s, s));
  }

  /** N×3×S×S patches in [0,1] → N×D patch features ({@code D = 6·layers + projection_dim}). */
  public NDArray encode(ParameterStore ps, NDArray patches, boolean training) {
    if (passBand == null) {
      prepare();
    }
    Shape shape = patches.getShape();
    int s = cfg.vit().imgSize();
    if (shape.dimension() != 4 || shape.get(1) != 3 || shape.get(2) != s || shape.get(3) != s) {
      throw new IllegalArgumentException("patches must be N×3×" + s + "×" + s + ", got " + shape);
    }
    NDManager parent = patches.getManager();
    try (NDManager scope = parent.newSubManager()) {
      patches.tempAttach(scope);
      // the FFT ran in float32 (half-precision FFT is missing on CPU and power-of-two only in cuFFT; no bf16 FFT
      // exists); the ViT runs in the weights' precision
      NDArray normalised = vit.toComputeType(spectralViews(patches));
      List<Integer> layers = cfg.fre().intermediateLayers();
      int last = layers.stream().mapToInt(Integer::intValue).max().orElseThrow();
      List<FrequencyRestorationEstimator.LayerStatistics> stats = new ArrayList<>();
      for (int i = 0; i < layers.size(); i++) {
        stats.add(null);
      }
      vit.forEachBlock(ps, normalised, training, last, (block, tokens) -> {
        for (int pos = 0; pos < layers.size(); pos++) {
          if (layers.get(pos) == block) {
            stats.set(pos, fre.layerStatistics(ps, pos, tokens, training));
          }
        }
      });
      NDArray out = fre.combine(ps, stats, training);
      out.attach(parent);
      return out;
    }
  }

  /**
   * {@code filters.filter_image_frequencies} then ImageNet normalisation: returns 3N×3×S×S, the original, low and
   * high images in that order. The FFT always runs in float32, whatever precision the rest of the model uses.
   */
  NDArray spectralViews(NDArray patches) {
    NDArray x = patches.toType(DataType.FLOAT32, false);
    NDArray[] lowHigh = lowHigh(x);
    NDManager m = x.getManager();
    NDArray mean = m.create(IMAGENET_MEAN, new Shape(1, 3, 1, 1));
    NDArray std = m.create(IMAGENET_STD, new Shape(1, 3, 1, 1));
    return normalise(x, mean, std)
        .concat(normalise(lowHigh[0], mean, std), 0)
        .concat(normalise(lowHigh[1], mean, std), 0);
  }

  /**
   * The low- and high-pass images in [0,1]: {@code real(ifft2(fft2(x)·band))} clamped, with the band already in
   * unshifted order (see {@link FrequencyMask#unshifted}).
   */
  NDArray[] lowHigh(NDArray x) {
    if (passBand == null) {
      prepare();
    }
    int s = cfg.vit().imgSize();
    long[] sizes = {s, s};
    long[] axes = {-2, -1};
    NDArray spectrum = x.fft2(sizes, axes);
    NDArray low = spectrum.mul(passBand).ifft2(sizes, axes).real().get("..., 0").clip(0f, 1f);
    NDArray high = spectrum.mul(stopBand).ifft2(sizes, axes).real().get("..., 0").clip(0f, 1f);
    return new NDArray[] {low, high};
  }

  /** torchvision {@code Normalize}: subtract the float32 mean, then divide by the float32 std. */
  private static NDArray normalise(NDArray x, NDArray mean, NDArray std) {
    return x.sub(mean).div(std);
  }

  @Override
  public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
    return encode(ps, x, training);
  }
}
