package io.semspai.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Turns decoded samples into the RGB bytes PIL's {@code Image.open(f).convert("RGB")} gives. Only raster samples are
 * read: {@code getRGB} would colour-convert gray and ICC-tagged data, and drawing onto an RGB canvas would composite
 * alpha over black, while PIL does neither. The rules, each checked against Pillow with the test corpus:
 * <ul>
 *   <li>alpha is dropped, never composited;</li>
 *   <li>gray is copied into R, G and B; 1, 2 and 4-bit gray is scaled by 255, 85 and 17;</li>
 *   <li>16-bit gray without alpha (PIL modes I and I;16) is clipped at 255, not shifted: 256 and above become 255;</li>
 *   <li>other 16-bit samples (RGB, RGBA, gray+alpha) keep their high byte;</li>
 *   <li>5 and 6-bit fields (BMP 565/555) become {@code v*255/31} and {@code v*255/63}, truncated;</li>
 *   <li>palettes give the palette's RGB, transparency ignored;</li>
 *   <li>CMYK becomes RGB by PIL's formula {@code (255-K) - C·(255-K)/255} with PIL's rounding; JPEG stores CMYK
 *       inverted (Adobe) and PIL always reads it as inverted;</li>
 *   <li>JPEG YCbCr and YCCK are converted with libjpeg's own integer tables, so the result is what libjpeg (and so
 *       PIL) produces.</li>
 * </ul>
 */
final class Pixels {
  private static final int SCALEBITS = 16;
  private static final int ONE_HALF = 1 << (SCALEBITS - 1);
  private static final int[] CR_R = new int[256];
  private static final int[] CB_B = new int[256];
  private static final int[] CR_G = new int[256];
  private static final int[] CB_G = new int[256];

  static {
    // jdcolor.c build_ycc_rgb_table, same fixed-point constants and rounding.
    for (int i = 0, x = -128; i < 256; i++, x++) {
      CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
      CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
      CR_G[i] = -fix(0.71414) * x;
      CB_G[i] = -fix(0.34414) * x + ONE_HALF;
    }
  }

  private Pixels() {}

  private static int fix(double x) {
    return (int) (x * (1L << SCALEBITS) + 0.5);
  }

  private static int clamp(int v) {
    return v < 0 ? 0 : Math.min(v, 255);
  }

  /** Pillow's MULDIV255: {@code a*b/255} with its exact rounding. */
  private static int muldiv255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  }

  /** Pillow's cmyk2rgb. */
  static void cmykToRgb(int c, int m, int y, int k, byte[] out, int o) {
    int nk = 255 - k;
    out[o] = (byte) clamp(nk - muldiv255(c, nk));
    out[o + 1] = (byte) clamp(nk - muldiv255(m, nk));
    out[o + 2] = (byte) clamp(nk - muldiv255(y, nk));
  }

  /** Raw JPEG samples (as {@code readRaster} returns them, after upsampling) in the file's own colour space. */
  static RgbImage fromJpegRaster(Raster r, JpegStructure.ColorSpace cs, String label) throws IntakeException {
    int w = r.getWidth();
    int h = r.getHeight();
    int bands = r.getNumBands();
    int need = switch (cs) {
      case GRAY -> 1;
      case YCBCR, RGB -> 3;
      case CMYK, YCCK -> 4;
    };
    if (bands != need || r.getSampleModel().getSampleSize(0) != 8) {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label,
          "a JPEG with " + bands + " components of " + r.getSampleModel().getSampleSize(0) + " bits as " + cs);
    }
    byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
    int[] row = new int[w * bands];
    RowReader rows = new RowReader(r);
    for (int y = 0; y < h; y++) {
      rows.row(y, row);
      int o = y * w * 3;
      switch (cs) {
        case GRAY -> {
          for (int x = 0; x < w; x++, o += 3) {
            byte g = (byte) row[x];
            out[o] = g;
            out[o + 1] = g;
            out[o + 2] = g;
          }
        }
        case RGB -> {
          for (int i = 0; i < w * 3; i++) {
            out[o + i] = (byte) row[i];
          }
        }
        case YCBCR -> {
          for (int x = 0, i = 0; x < w; x++, i += 3, o += 3) {
            int yy = row[i];
            int cb = row[i + 1];
            int cr = row[i + 2];
            out[o] = (byte) clamp(yy + CR_R[cr]);
            out[o + 1] = (byte) clamp(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            out[o + 2] = (byte) clamp(yy + CB_B[cb]);
          }
        }
        case CMYK -> {
          for (int x = 0, i = 0; x < w; x++, i += 4, o += 3) {
            cmykToRgb(255 - row[i], 255 - row[i + 1], 255 - row[i + 2], 255 - row[i + 3], out, o);
          }
        }
        case YCCK -> {
          for (int x = 0, i = 0; x < w; x++, i += 4, o += 3) {
            // libjpeg's ycck_cmyk_convert stores 255 - R etc.; PIL reads JPEG CMYK inverted, which undoes that.
            int yy = row[i];
            int cb = row[i + 1];
            int cr = row[i + 2];
            int c = clamp(yy + CR_R[cr]);
            int m = clamp(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            int ye = clamp(yy + CB_B[cb]);
            cmykToRgb(c, m, ye, 255 - row[i + 3], out, o);
          }
        }
        default -> throw new AssertionError(cs);
      }
    }
    return new RgbImage(w, h, out);
  }

  /**
   * Decoded images of every other format.
   *
   * @param grayHasAlpha whether a 16-bit gray source had an alpha channel of its own (PNG colour type 4): PIL then
   *     keeps the high byte, and otherwise clips. ImageIO may add alpha from tRNS, so the caller says.
   */
  static RgbImage fromImage(BufferedImage img, boolean grayHasAlpha, String label, String format)
      throws IntakeException {
    Raster r = img.getRaster();
    ColorModel cm = img.getColorModel();
    int w = r.getWidth();
    int h = r.getHeight();
    byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
    if (cm instanceof IndexColorModel icm) {
      byte[][] lut = palette(icm);
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, 0, row);
        for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
          int i = row[x] & 0xFF;
          out[o] = lut[0][i];
          out[o + 1] = lut[1][i];
          out[o + 2] = lut[2][i];
        }
      }
      return new RgbImage(w, h, out);
    }
    int dataType = r.getDataBuffer().getDataType();
    if (dataType != DataBuffer.TYPE_BYTE && dataType != DataBuffer.TYPE_USHORT && dataType != DataBuffer.TYPE_INT) {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "a " + format + " with floating-point or signed samples");
    }
    int csType = cm.getColorSpace().getType();
    int colors = cm.getNumColorComponents();
    int bands = r.getNumBands();
    int[] bits = new int[bands];
    for (int b = 0; b < bands; b++) {
      bits[b] = r.getSampleModel().getSampleSize(b);
    }
    int[] row = new int[w * bands];
    RowReader rows = new RowReader(r);
    if (csType == ColorSpace.TYPE_GRAY && colors == 1) {
      boolean clip16 = bits[0] == 16 && !grayHasAlpha;
      for (int y = 0; y < h; y++) {
        rows.row(y, row);
        for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
          int v = row[x * bands];
          byte g = (byte) (clip16 ? Math.min(v, 255) : scale(v, bits[0]));
          out[o] = g;
          out[o + 1] = g;
          out[o + 2] = g;
        }
      }
    } else if (csType == ColorSpace.TYPE_RGB && colors == 3) {
      for (int y = 0; y < h; y++) {
        rows.row(y, row);
        for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
          int i = x * bands;
          out[o] = (byte) scale(row[i], bits[0]);
          out[o + 1] = (byte) scale(row[i + 1], bits[1]);
          out[o + 2] = (byte) scale(row[i + 2], bits[2]);
        }
      }
    } else if (csType == ColorSpace.TYPE_CMYK && colors == 4) {
      for (int y = 0; y < h; y++) {
        rows.row(y, row);
        for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
          int i = x * bands;
          cmykToRgb(scale(row[i], bits[0]), scale(row[i + 1], bits[1]), scale(row[i + 2], bits[2]),
              scale(row[i + 3], bits[3]), out, o);
        }
      }
    } else {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label,
          "a " + format + " in colour space type " + csType + " with " + colors + " colour components");
    }
    return new RgbImage(w, h, out);
  }

  /** A GIF's first frame on PIL's canvas: the screen filled with the frame's transparent index (else index 0). */
  static RgbImage gifCanvas(BufferedImage frame, GifStructure.Info info, String label) throws IntakeException {
    if (!(frame.getColorModel() instanceof IndexColorModel icm)) {
      return fromImage(frame, false, label, "GIF");
    }
    byte[][] lut = palette(icm);
    int cw = info.canvasWidth();
    int ch = info.canvasHeight();
    byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(cw, ch), 3)];
    int fill = info.transparentIndex() >= 0 ? info.transparentIndex() : 0;
    for (int o = 0; o < out.length; o += 3) {
      out[o] = lut[0][fill];
      out[o + 1] = lut[1][fill];
      out[o + 2] = lut[2][fill];
    }
    Raster r = frame.getRaster();
    int fw = Math.min(r.getWidth(), cw - info.frameLeft());
    int fh = Math.min(r.getHeight(), ch - info.frameTop());
    int[] row = new int[r.getWidth()];
    for (int y = 0; y < fh; y++) {
      r.getSamples(r.getMinX(), r.getMinY() + y, r.getWidth(), 1, 0, row);
      int o = ((info.frameTop() + y) * cw + info.frameLeft()) * 3;
      for (int x = 0; x < fw; x++, o += 3) {
        int i = row[x] & 0xFF;
        out[o] = lut[0][i];
        out[o + 1] = lut[1][i];
        out[o + 2] = lut[2][i];
      }
    }
    return new RgbImage(cw, ch, out);
  }

  /** The palette as 256-entry R, G, B tables; indices past the palette's end read as black. */
  private static byte[][] palette(IndexColorModel icm) {
    byte[][] lut = new byte[3][256];
    int n = Math.min(256, icm.getMapSize());
    byte[] rr = new byte[icm.getMapSize()];
    byte[] gg = new byte[icm.getMapSize()];
    byte[] bb = new byte[icm.getMapSize()];
    icm.getReds(rr);
    icm.getGreens(gg);
    icm.getBlues(bb);
    System.arraycopy(rr, 0, lut[0], 0, n);
    System.arraycopy(gg, 0, lut[1], 0, n);
    System.arraycopy(bb, 0, lut[2], 0, n);
    return lut;
  }

  /** An n-bit sample as 8 bits the way PIL's unpackers do it. */
  private static int scale(int v, int bits) {
    if (bits == 8) {
      return v & 0xFF;
    }
    if (bits < 8) {
      return v * 255 / ((1 << bits) - 1);
    }
    return (v >>> (bits - 8)) & 0xFF;
  }
}
