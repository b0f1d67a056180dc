package io.semspai.spai;

import io.semspai.image.AntialiasedResize;
import io.semspai.image.RgbImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Sem-SPAI's test path for SPAI ({@code resize:N}, its {@code SPAI_INPUT_SIZE}): every image becomes an N×N square
 * before SPAI sees it, then goes through {@code forward_batch}'s plain grid, so there is never a five-crop.
 *
 * <ol>
 *   <li>pixels in [0,1], padded as SPAI's dataset transform does ({@link PaddedImage}: sides below the patch size
 *       are reflect-101 padded to it);
 *   <li>torchvision {@code Resize((N, N), antialias=True)} on the float tensor ({@link AntialiasedResize}): no
 *       rounding, no clamping, aspect ratio not kept;
 *   <li>non-overlapping patches every {@code stride} px, row-major, remainder dropped: N=224 gives one patch,
 *       448 gives four, Sem-SPAI's test job used 1024 (16 patches).
 * </ol>
 *
 * Resizing smooths away much of the high-frequency trace SPAI reads, which is why {@code native} stays the
 * default; this policy exists to reproduce Sem-SPAI. A patch's box is its square mapped back through the resize
 * and the padding onto the original image (rounded outwards, clipped to the image).
 */
public final class ResizeInputPolicy implements SpaiInputPolicy {
  private final SpaiConfig.Patch cfg;
  private final int side;

  public ResizeInputPolicy(SpaiConfig.Patch cfg, int side) {
    if (side < cfg.size()) {
      throw new IllegalArgumentException("SPAI input policy 'resize:" + side + "': the square must be at least one "
          + "patch (" + cfg.size() + " px)");
    }
    this.cfg = cfg;
    this.side = side;
  }

  public int side() {
    return side;
  }

  @Override
  public String spec() {
    return "resize:" + side;
  }

  @Override
  public SpaiPatches patches(RgbImage image) {
    int size = cfg.size();
    PaddedImage padded = PaddedImage.of(image, size);
    float[] square = AntialiasedResize.resize(padded.chw(), 3, padded.height(), padded.width(), side, side);
    int n = NativeInputPolicy.gridCount(side, size, cfg.stride());
    float[] pixels = new float[n * n * 3 * size * size];
    List<PatchBox> boxes = new ArrayList<>(n * n);
    double sx = padded.width() / (double) side;
    double sy = padded.height() / (double) side;
    int o = 0;
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < n; c++) {
        int x0 = c * cfg.stride();
        int y0 = r * cfg.stride();
        for (int ch = 0; ch < 3; ch++) {
          for (int y = 0; y < size; y++) {
            System.arraycopy(square, (ch * side + y0 + y) * side + x0, pixels, o, size);
            o += size;
          }
        }
        boxes.add(box(x0 * sx - padded.padLeft(), y0 * sy - padded.padTop(), (x0 + size) * sx - padded.padLeft(),
            (y0 + size) * sy - padded.padTop(), image.width(), image.height()));
      }
    }
    return new SpaiPatches(image.width(), image.height(), SpaiPatches.Crop.RESIZE, size, pixels, boxes);
  }

  private static PatchBox box(double x0, double y0, double x1, double y1, int w, int h) {
    int left = clamp((int) Math.floor(x0 + 1e-9), w);
    int top = clamp((int) Math.floor(y0 + 1e-9), h);
    int right = clamp((int) Math.ceil(x1 - 1e-9), w);
    int bottom = clamp((int) Math.ceil(y1 - 1e-9), h);
    return new PatchBox(left, top, Math.max(0, right - left), Math.max(0, bottom - top));
  }

  private static int clamp(int v, int max) {
    return Math.max(0, Math.min(max, v));
  }
}
