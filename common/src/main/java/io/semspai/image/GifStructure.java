package io.semspai.image;

/**
 * Reads a GIF's screen and first-frame headers and proves the first frame's data is complete. ImageIO's GIF reader
 * returns only the frame's own rectangle, and leaves what a cut-off frame lacks as index 0; PIL returns the whole
 * logical screen (filled with the frame's transparent index, else 0) and refuses cut-off data.
 */
final class GifStructure {

  record Info(int screenWidth, int screenHeight, int frameLeft, int frameTop, int frameWidth, int frameHeight,
      int transparentIndex) {

    /** PIL's canvas: the logical screen, grown to hold the first frame if it pokes out. */
    int canvasWidth() {
      return Math.max(screenWidth, frameLeft + frameWidth);
    }

    int canvasHeight() {
      return Math.max(screenHeight, frameTop + frameHeight);
    }
  }

  private GifStructure() {}

  static Info parse(byte[] b, String label, PngStructure.Dimensions dims) throws IntakeException {
    if (b.length < 13) {
      throw IntakeReason.TRUNCATED.exception(label, "GIF", "file ends inside the screen descriptor");
    }
    int screenW = u16(b, 6);
    int screenH = u16(b, 8);
    int flags = b[10] & 0xFF;
    int pos = 13;
    if ((flags & 0x80) != 0) {
      pos += 3 << ((flags & 7) + 1);
    }
    int transparent = -1;
    while (true) {
      if (pos >= b.length) {
        throw IntakeReason.TRUNCATED.exception(label, "GIF", "file ends before the first frame");
      }
      int block = b[pos++] & 0xFF;
      if (block == 0x21) {
        if (pos >= b.length) {
          throw IntakeReason.TRUNCATED.exception(label, "GIF", "file ends inside an extension");
        }
        int kind = b[pos++] & 0xFF;
        if (kind == 0xF9 && pos + 5 <= b.length && (b[pos] & 0xFF) >= 4) {
          boolean hasTransparency = (b[pos + 1] & 1) != 0;
          transparent = hasTransparency ? b[pos + 4] & 0xFF : -1;
        }
        pos = skipSubBlocks(b, pos, label, "an extension");
      } else if (block == 0x2C) {
        if (pos + 10 > b.length) {
          throw IntakeReason.TRUNCATED.exception(label, "GIF", "file ends inside the image descriptor");
        }
        int left = u16(b, pos);
        int top = u16(b, pos + 2);
        int w = u16(b, pos + 4);
        int h = u16(b, pos + 6);
        int f = b[pos + 8] & 0xFF;
        pos += 9;
        if (w == 0 || h == 0) {
          throw IntakeReason.CORRUPT.exception(label, "GIF", "first frame is empty");
        }
        Info info = new Info(screenW, screenH, left, top, w, h, transparent);
        dims.check(info.canvasWidth(), info.canvasHeight());
        if ((f & 0x80) != 0) {
          pos += 3 << ((f & 7) + 1);
        }
        pos += 1; // LZW minimum code size
        skipSubBlocks(b, pos, label, "the first frame's image data");
        return info;
      } else if (block == 0x3B) {
        throw IntakeReason.CORRUPT.exception(label, "GIF", "no frames");
      } else {
        throw IntakeReason.CORRUPT.exception(label, "GIF", String.format("unknown block 0x%02X", block));
      }
    }
  }

  private static int skipSubBlocks(byte[] b, int pos, String label, String what) throws IntakeException {
    while (true) {
      if (pos >= b.length) {
        throw IntakeReason.TRUNCATED.exception(label, "GIF", "file ends inside " + what);
      }
      int n = b[pos++] & 0xFF;
      if (n == 0) {
        return pos;
      }
      pos += n;
    }
  }

  private static int u16(byte[] b, int p) {
    return (b[p] & 0xFF) | ((b[p + 1] & 0xFF) << 8);
  }
}
