package io.semspai.image;

/**
 * The EXIF Orientation tag (0x0112) and PIL's {@code ImageOps.exif_transpose} for it. The intake applies it only when
 * {@code intake.apply-exif-orientation} is on: the upstream models saw un-rotated pixels.
 */
final class ExifOrientation {
  private ExifOrientation() {}

  /** The orientation in a TIFF-structured EXIF block (an optional "Exif\0\0" prefix is skipped); 1 when absent. */
  static int read(byte[] exif) {
    if (exif == null) {
      return 1;
    }
    int base = 0;
    if (exif.length >= 6 && exif[0] == 'E' && exif[1] == 'x' && exif[2] == 'i' && exif[3] == 'f' && exif[4] == 0
        && exif[5] == 0) {
      base = 6;
    }
    return readTiff(exif, base);
  }

  /** The orientation in IFD0 of a TIFF structure starting at {@code base}; 1 when absent or malformed. */
  static int readTiff(byte[] b, int base) {
    if (b.length < base + 8) {
      return 1;
    }
    boolean little;
    if (b[base] == 'I' && b[base + 1] == 'I') {
      little = true;
    } else if (b[base] == 'M' && b[base + 1] == 'M') {
      little = false;
    } else {
      return 1;
    }
    if (u16(b, base + 2, little) != 42) {
      return 1;
    }
    long ifd = u32(b, base + 4, little);
    if (ifd < 8 || base + ifd + 2 > b.length) {
      return 1;
    }
    int p = (int) (base + ifd);
    int count = u16(b, p, little);
    for (int i = 0; i < count; i++) {
      int e = p + 2 + 12 * i;
      if (e + 12 > b.length) {
        return 1;
      }
      if (u16(b, e, little) == 0x0112) {
        int type = u16(b, e + 2, little);
        int value = type == 3 ? u16(b, e + 8, little) : type == 4 ? (int) u32(b, e + 8, little) : 1;
        return value >= 1 && value <= 8 ? value : 1;
      }
    }
    return 1;
  }

  /** PIL's exif_transpose: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 270 (CCW), 7 transverse, 8 rotate 90. */
  static RgbImage apply(RgbImage img, int orientation) {
    if (orientation <= 1 || orientation > 8) {
      return img;
    }
    int w = img.width();
    int h = img.height();
    boolean swap = orientation >= 5;
    int ow = swap ? h : w;
    int oh = swap ? w : h;
    byte[] in = img.rgb();
    byte[] out = new byte[in.length];
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> { sx = w - 1 - x; sy = y; }
          case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
          case 4 -> { sx = x; sy = h - 1 - y; }
          case 5 -> { sx = y; sy = x; }
          case 6 -> { sx = y; sy = h - 1 - x; }
          case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
          default -> { sx = w - 1 - y; sy = x; }
        }
        int s = (sy * w + sx) * 3;
        int d = (y * ow + x) * 3;
        out[d] = in[s];
        out[d + 1] = in[s + 1];
        out[d + 2] = in[s + 2];
      }
    }
    return new RgbImage(ow, oh, out);
  }

  private static int u16(byte[] b, int p, boolean little) {
    return little ? (b[p] & 0xFF) | ((b[p + 1] & 0xFF) << 8) : ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
  }

  private static long u32(byte[] b, int p, boolean little) {
    return little
        ? (b[p] & 0xFFL) | ((b[p + 1] & 0xFFL) << 8) | ((b[p + 2] & 0xFFL) << 16) | ((b[p + 3] & 0xFFL) << 24)
        : ((b[p] & 0xFFL) << 24) | ((b[p + 1] & 0xFFL) << 16) | ((b[p + 2] & 0xFFL) << 8) | (b[p + 3] & 0xFFL);
  }
}
