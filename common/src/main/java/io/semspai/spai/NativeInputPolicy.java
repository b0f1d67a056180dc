package io.semspai.spai;

import io.semspai.image.RgbImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Upstream SPAI's test-time input path, with no resize:
 *
 * <ol>
 *   <li>pixels in [0,1] ({@link RgbImage#toChwUnitFloats()});
 *   <li>albumentations {@code PadIfNeeded(224, 224)}: centred, {@code before = (224−n)//2}, {@code after =
 *       224−n−before}, {@code BORDER_REFLECT_101} (the edge pixel is not repeated; numpy's {@code "reflect"});
 *   <li>{@code size}² patches every {@code stride} px, row-major, right and bottom remainder dropped;
 *   <li>if that gives fewer than {@code minimum_patches}: torchvision {@code five_crop} (tl, tr, bl, br, centre,
 *       centre offset {@code int(round((n−size)/2))} with Python's round-half-to-even).
 * </ol>
 *
 * Each patch's box is its rectangle in the padded image shifted back by the padding and clipped to the image.
 */
public final class NativeInputPolicy implements SpaiInputPolicy {
  /** The spec of {@link #gridOnly}. */
  public static final String GRID_ONLY = "native_grid";

  private final SpaiConfig.Patch cfg;
  private final String spec;

  public NativeInputPolicy(SpaiConfig.Patch cfg) {
    this(cfg, "native");
  }

  private NativeInputPolicy(SpaiConfig.Patch cfg, String spec) {
    this.cfg = cfg;
    this.spec = spec;
  }

  /**
   * Sem-SPAI's path with {@code SPAI_INPUT_SIZE: None}: the same padding and grid, but {@code forward_batch} never
   * five-crops, so an image below 448 px on a side runs on fewer patches (down to one).
   */
  public static NativeInputPolicy gridOnly(SpaiConfig.Patch cfg) {
    return new NativeInputPolicy(new SpaiConfig.Patch(cfg.size(), cfg.stride(), 0), GRID_ONLY);
  }

  @Override
  public String spec() {
    return spec;
  }

  @Override
  public SpaiPatches patches(RgbImage image) {
    int w = image.width();
    int h = image.height();
    int size = cfg.size();
    int padLeft = padBefore(w, size);
    int padTop = padBefore(h, size);
    int pw = Math.max(w, size);
    int ph = Math.max(h, size);
    // top-left corners in padded coordinates
    List<int[]> corners = new ArrayList<>();
    int cols = gridCount(pw, size, cfg.stride());
    int rows = gridCount(ph, size, cfg.stride());
    SpaiPatches.Crop crop;
    if ((long) cols * rows >= cfg.minimumPatches()) {
      crop = SpaiPatches.Crop.GRID;
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          corners.add(new int[] {c * cfg.stride(), r * cfg.stride()});
        }
      }
    } else {
      crop = SpaiPatches.Crop.FIVE_CROP;
      corners.add(new int[] {0, 0});
      corners.add(new int[] {pw - size, 0});
      corners.add(new int[] {0, ph - size});
      corners.add(new int[] {pw - size, ph - size});
      corners.add(new int[] {centreOffset(pw, size), centreOffset(ph, size)});
    }

    float[] chw = image.toChwUnitFloats();
    int plane = w * h;
    float[] pixels = new float[corners.size() * 3 * size * size];
    List<PatchBox> boxes = new ArrayList<>(corners.size());
    int[] srcX = new int[size];
    int o = 0;
    for (int[] corner : corners) {
      for (int i = 0; i < size; i++) {
        srcX[i] = reflect101(corner[0] + i - padLeft, w);
      }
      for (int ch = 0; ch < 3; ch++) {
        int base = ch * plane;
        for (int y = 0; y < size; y++) {
          int row = base + reflect101(corner[1] + y - padTop, h) * w;
          for (int x = 0; x < size; x++) {
            pixels[o++] = chw[row + srcX[x]];
          }
        }
      }
      boxes.add(box(corner[0] - padLeft, corner[1] - padTop, size, w, h));
    }
    return new SpaiPatches(w, h, crop, size, pixels, boxes);
  }

  /** Padding before the image on an axis of length n: {@code max(0, (size−n)//2)}. */
  static int padBefore(int n, int size) {
    return n >= size ? 0 : (size - n) / 2;
  }

  /** Number of grid positions on an axis: {@code (n−size)//stride + 1}, as {@code Tensor.unfold}. */
  static int gridCount(int n, int size, int stride) {
    return n < size ? 0 : (n - size) / stride + 1;
  }

  /**
   * torchvision {@code center_crop}'s offset {@code int(round((n − size) / 2.0))}: Python rounds halves to even,
   * so n−size = 225 gives 112 and 227 gives 114.
   */
  static int centreOffset(int n, int size) {
    int d = n - size;
    int half = d / 2;
    if (d % 2 == 0) {
      return half;
    }
    return half % 2 == 0 ? half : half + 1;
  }

  /**
   * OpenCV's {@code BORDER_REFLECT_101} index map ({@code gfedcb|abcdefgh|gfedcba}), applied repeatedly when the
   * padding is wider than the image, as {@code cv2.copyMakeBorder} and numpy's {@code "reflect"} do.
   */
  static int reflect101(int p, int len) {
    if (len == 1) {
      return 0;
    }
    while (p < 0 || p >= len) {
      p = p < 0 ? -p : 2 * len - p - 2;
    }
    return p;
  }

  private static PatchBox box(int x, int y, int size, int w, int h) {
    int x0 = Math.max(0, x);
    int y0 = Math.max(0, y);
    int x1 = Math.min(w, x + size);
    int y1 = Math.min(h, y + size);
    return new PatchBox(x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0));
  }
}
