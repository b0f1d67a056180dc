package io.semspai.spai;

import io.semspai.image.RgbImage;

/**
 * An image in [0,1] after SPAI's dataset padding, albumentations {@code PadIfNeeded(min, min)} with
 * {@code BORDER_REFLECT_101} (see {@link NativeInputPolicy}): channel-first floats of the padded size, and where
 * the original sits inside. Sem-SPAI's fixed-size SPAI input ({@code resize:N}) and its semantic input both start
 * from this padded image, then resize it.
 *
 * @param chw 3 × height × width floats
 * @param padLeft columns added before the image
 * @param padTop rows added above the image
 */
public record PaddedImage(float[] chw, int width, int height, int padLeft, int padTop, int imageWidth,
    int imageHeight) {
  /** Pads each side shorter than {@code min} to {@code min}; an image already large enough is returned as is. */
  public static PaddedImage of(RgbImage image, int min) {
    int w = image.width();
    int h = image.height();
    float[] src = image.toChwUnitFloats();
    if (w >= min && h >= min) {
      return new PaddedImage(src, w, h, 0, 0, w, h);
    }
    int padLeft = NativeInputPolicy.padBefore(w, min);
    int padTop = NativeInputPolicy.padBefore(h, min);
    int pw = Math.max(w, min);
    int ph = Math.max(h, min);
    int[] srcX = new int[pw];
    for (int x = 0; x < pw; x++) {
      srcX[x] = NativeInputPolicy.reflect101(x - padLeft, w);
    }
    float[] out = new float[3 * pw * ph];
    int o = 0;
    for (int c = 0; c < 3; c++) {
      int plane = c * w * h;
      for (int y = 0; y < ph; y++) {
        int row = plane + NativeInputPolicy.reflect101(y - padTop, h) * w;
        for (int x = 0; x < pw; x++) {
          out[o++] = src[row + srcX[x]];
        }
      }
    }
    return new PaddedImage(out, pw, ph, padLeft, padTop, w, h);
  }
}
