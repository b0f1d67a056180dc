package io.semspai.image;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Checks a WebP's RIFF framing. The WebP reader decodes a cut-off lossless file without complaint (the missing part
 * stays transparent black), so the RIFF length and every chunk's length must fit in the file.
 */
final class WebpStructure {

  record Info(boolean animated, byte[] exif) {}

  private WebpStructure() {}

  static Info check(byte[] b, String label) throws IntakeException {
    long riff = (b[4] & 0xFFL) | ((b[5] & 0xFFL) << 8) | ((b[6] & 0xFFL) << 16) | ((b[7] & 0xFFL) << 24);
    if (riff < 4) {
      throw IntakeReason.CORRUPT.exception(label, "WebP", "RIFF size " + riff);
    }
    if (8 + riff > b.length) {
      throw IntakeReason.TRUNCATED.exception(label, "WebP",
          "RIFF header promises " + (8 + riff) + " bytes, the file has " + b.length);
    }
    int end = (int) (8 + riff);
    int pos = 12;
    boolean animated = false;
    boolean image = false;
    byte[] exif = null;
    while (pos + 8 <= end) {
      String fourcc = new String(b, pos, 4, StandardCharsets.ISO_8859_1);
      long size = (b[pos + 4] & 0xFFL) | ((b[pos + 5] & 0xFFL) << 8) | ((b[pos + 6] & 0xFFL) << 16)
          | ((b[pos + 7] & 0xFFL) << 24);
      if (pos + 8 + size > end) {
        throw IntakeReason.TRUNCATED.exception(label, "WebP", "chunk " + fourcc.trim() + " is cut short");
      }
      switch (fourcc) {
        case "VP8 ", "VP8L", "ANMF" -> image = true;
        case "ANIM" -> animated = true;
        case "EXIF" -> {
          if (exif == null) {
            exif = Arrays.copyOfRange(b, pos + 8, (int) (pos + 8 + size));
          }
        }
        default -> {
          // VP8X, ALPH, ICCP, XMP and unknown chunks need no check here
        }
      }
      pos += 8 + (int) size + (int) (size & 1);
    }
    if (!image) {
      throw IntakeReason.CORRUPT.exception(label, "WebP", "no image chunk");
    }
    return new Info(animated, exif);
  }
}
