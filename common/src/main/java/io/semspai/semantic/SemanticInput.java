package io.semspai.semantic;

import io.semspai.image.AntialiasedResize;
import io.semspai.image.RgbImage;
import io.semspai.spai.PaddedImage;

/**
 * What Sem-SPAI's test path feeds the ConvNeXt trunk:
 *
 * <ol>
 *   <li>pixels in [0,1] ({@code v · float32(1/255)}), and a side shorter than SPAI's patch (224) reflect-101 padded
 *       to it: the dataset transform pads before the model splits the image between its branches. Skipping the
 *       padding moves a small image's features by ~0.6;
 *   <li>{@code transforms.Resize((224, 224), antialias=True)} on that float tensor ({@link AntialiasedResize}), no
 *       rounding or clamping, aspect ratio not kept;
 *   <li>ImageNet mean/std, not CLIP's (Sem-SPAI's choice; OpenCLIP itself would use CLIP's at 256 px).
 * </ol>
 */
public final class SemanticInput {
  private SemanticInput() {}

  public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  /**
   * The normalised 3×size×size input, channel-first.
   *
   * @param padTo sides below this are padded first (SPAI's patch size, 224)
   * @param size the trunk's input side (224)
   */
  public static float[] of(RgbImage image, int padTo, int size) {
    PaddedImage padded = PaddedImage.of(image, padTo);
    float[] x = AntialiasedResize.resize(padded.chw(), 3, padded.height(), padded.width(), size, size);
    float[] out = x; // the padded array when no resize was needed: a fresh copy of the pixels, ours to overwrite
    int plane = size * size;
    for (int c = 0; c < 3; c++) {
      float mean = IMAGENET_MEAN[c];
      float std = IMAGENET_STD[c];
      for (int i = c * plane, end = (c + 1) * plane; i < end; i++) {
        out[i] = (out[i] - mean) / std;
      }
    }
    return out;
  }
}
