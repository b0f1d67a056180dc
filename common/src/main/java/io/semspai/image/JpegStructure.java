package io.semspai.image;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Walks a JPEG's markers before decoding: the frame header (size, components, process), the JFIF and Adobe markers
 * that decide the colour space the way libjpeg does, the EXIF segment, and whether the file reaches its EOI marker.
 * libjpeg fills a cut-off JPEG with grey and only warns; PIL refuses it ("image file is truncated"), and so does the
 * intake.
 */
final class JpegStructure {
  /** Scans beyond this make a file a CPU bomb rather than a photo (real progressive files have about 10). */
  static final int MAX_SCANS = 1000;

  enum ColorSpace { GRAY, YCBCR, RGB, CMYK, YCCK }

  record Info(int width, int height, int precision, int sofMarker, int[] componentIds, boolean jfif, boolean adobe,
      int adobeTransform, int scans, byte[] exif) {

    int components() {
      return componentIds.length;
    }

    boolean progressive() {
      return sofMarker == 0xC2 || sofMarker == 0xC6 || sofMarker == 0xCA || sofMarker == 0xCE;
    }

    /** libjpeg's default_decompress_parms: the colour space the samples are stored in. */
    ColorSpace colorSpace() {
      switch (components()) {
        case 1:
          return ColorSpace.GRAY;
        case 3:
          if (jfif) {
            return ColorSpace.YCBCR;
          }
          if (adobe) {
            return adobeTransform == 0 ? ColorSpace.RGB : ColorSpace.YCBCR;
          }
          if (componentIds[0] == 'R' && componentIds[1] == 'G' && componentIds[2] == 'B') {
            return ColorSpace.RGB;
          }
          return ColorSpace.YCBCR;
        case 4:
          if (adobe && adobeTransform != 0) {
            return ColorSpace.YCCK;
          }
          return ColorSpace.CMYK;
        default:
          return null;
      }
    }
  }

  private JpegStructure() {}

  static Info parse(byte[] b, String label, PngStructure.Dimensions dims) throws IntakeException {
    int pos = 2;
    int width = -1;
    int height = -1;
    int precision = 0;
    int sof = -1;
    int[] ids = null;
    boolean jfif = false;
    boolean adobe = false;
    int transform = -1;
    int scans = 0;
    byte[] exif = null;
    while (true) {
      while (pos < b.length && (b[pos] & 0xFF) != 0xFF) {
        pos++; // libjpeg skips stray bytes before a marker with a warning; so does PIL
      }
      while (pos < b.length && (b[pos] & 0xFF) == 0xFF) {
        pos++;
      }
      if (pos >= b.length) {
        throw IntakeReason.TRUNCATED.exception(label, "JPEG",
            scans == 0 ? "file ends inside the headers" : "file ends before the EOI marker");
      }
      int marker = b[pos++] & 0xFF;
      if (marker == 0xD9) {
        break;
      }
      if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        continue;
      }
      if (marker == 0xD8) {
        throw IntakeReason.CORRUPT.exception(label, "JPEG", "two SOI markers");
      }
      if (pos + 2 > b.length) {
        throw IntakeReason.TRUNCATED.exception(label, "JPEG", "file ends inside a marker");
      }
      int len = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
      if (len < 2) {
        throw IntakeReason.CORRUPT.exception(label, "JPEG", "bad segment length at byte " + pos);
      }
      if (pos + len > b.length) {
        throw IntakeReason.TRUNCATED.exception(label, "JPEG",
            String.format("segment 0x%02X at byte %d is cut short", marker, pos - 2));
      }
      int data = pos + 2;
      int dataLen = len - 2;
      boolean isSof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (isSof) {
        if (sof >= 0) {
          throw IntakeReason.CORRUPT.exception(label, "JPEG", "two frame headers");
        }
        if (dataLen < 6) {
          throw IntakeReason.CORRUPT.exception(label, "JPEG", "short frame header");
        }
        sof = marker;
        precision = b[data] & 0xFF;
        height = ((b[data + 1] & 0xFF) << 8) | (b[data + 2] & 0xFF);
        width = ((b[data + 3] & 0xFF) << 8) | (b[data + 4] & 0xFF);
        int n = b[data + 5] & 0xFF;
        if (dataLen < 6 + 3 * n || n == 0) {
          throw IntakeReason.CORRUPT.exception(label, "JPEG", "frame header lists " + n + " components");
        }
        ids = new int[n];
        for (int i = 0; i < n; i++) {
          ids[i] = b[data + 6 + 3 * i] & 0xFF;
        }
        if (width == 0) {
          throw IntakeReason.CORRUPT.exception(label, "JPEG", "zero width");
        }
        if (height == 0) {
          throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "a JPEG whose height is given by a DNL marker");
        }
        dims.check(width, height);
      } else if (marker == 0xE0 && startsWith(b, data, dataLen, "JFIF\0")) {
        jfif = true;
      } else if (marker == 0xE1 && exif == null && startsWith(b, data, dataLen, "Exif\0\0")) {
        exif = Arrays.copyOfRange(b, data + 6, data + dataLen);
      } else if (marker == 0xEE && dataLen >= 12 && startsWith(b, data, dataLen, "Adobe")) {
        adobe = true;
        transform = b[data + 11] & 0xFF;
      } else if (marker == 0xDA) {
        if (sof < 0) {
          throw IntakeReason.CORRUPT.exception(label, "JPEG", "scan before the frame header");
        }
        if (++scans > MAX_SCANS) {
          throw IntakeReason.CORRUPT.exception(label, "JPEG",
              "more than " + MAX_SCANS + " scans (a progressive-JPEG CPU bomb)");
        }
        pos = skipEntropyData(b, data + dataLen);
        if (pos >= b.length) {
          throw IntakeReason.TRUNCATED.exception(label, "JPEG", "file ends inside scan " + scans);
        }
        continue;
      }
      pos = data + dataLen;
    }
    if (sof < 0) {
      throw IntakeReason.CORRUPT.exception(label, "JPEG", "no frame header");
    }
    if (scans == 0) {
      throw IntakeReason.CORRUPT.exception(label, "JPEG", "no image data");
    }
    return new Info(width, height, precision, sof, ids, jfif, adobe, transform, scans, exif);
  }

  /** Position of the marker that ends a scan's entropy-coded data (stuffed 0xFF00 and RSTn belong to the data). */
  private static int skipEntropyData(byte[] b, int pos) {
    while (pos < b.length) {
      if ((b[pos] & 0xFF) != 0xFF) {
        pos++;
        continue;
      }
      if (pos + 1 >= b.length) {
        return b.length;
      }
      int next = b[pos + 1] & 0xFF;
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) {
        pos += next == 0xFF ? 1 : 2;
        continue;
      }
      return pos;
    }
    return pos;
  }

  private static boolean startsWith(byte[] b, int data, int dataLen, String prefix) {
    byte[] p = prefix.getBytes(StandardCharsets.ISO_8859_1);
    if (dataLen < p.length) {
      return false;
    }
    for (int i = 0; i < p.length; i++) {
      if (b[data + i] != p[i]) {
        return false;
      }
    }
    return true;
  }
}
