package io.semspai.image;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * The formats the intake decodes, recognised by their magic bytes only: a file name or a Content-Type says nothing
 * about what a file is.
 */
public enum ImageFormat {
  JPEG,
  PNG,
  GIF,
  BMP,
  TIFF,
  WEBP;

  static Optional<ImageFormat> sniff(byte[] b) {
    if (b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF) {
      return Optional.of(JPEG);
    }
    if (startsWith(b, 0, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})) {
      return Optional.of(PNG);
    }
    if (startsWith(b, 0, ascii("GIF87a")) || startsWith(b, 0, ascii("GIF89a"))) {
      return Optional.of(GIF);
    }
    if (b.length >= 26 && b[0] == 'B' && b[1] == 'M') {
      return Optional.of(BMP);
    }
    if (startsWith(b, 0, new byte[] {'I', 'I', 42, 0}) || startsWith(b, 0, new byte[] {'M', 'M', 0, 42})
        || startsWith(b, 0, new byte[] {'I', 'I', 43, 0}) || startsWith(b, 0, new byte[] {'M', 'M', 0, 43})) {
      return Optional.of(TIFF);
    }
    if (startsWith(b, 0, ascii("RIFF")) && startsWith(b, 8, ascii("WEBP"))) {
      return Optional.of(WEBP);
    }
    return Optional.empty();
  }

  /** A short guess at what unsupported bytes are, for the error message. */
  static String describeUnknown(byte[] b) {
    int n = Math.min(b.length, 512);
    String head = new String(b, 0, n, StandardCharsets.ISO_8859_1).stripLeading().toLowerCase(Locale.ROOT);
    if (head.startsWith("\ufeff")) {
      head = head.substring(1);
    }
    if (head.startsWith("%pdf")) {
      return "a PDF document, not an image";
    }
    if (head.contains("<svg")) {
      return "an SVG drawing (vector graphics are not decoded)";
    }
    if (head.startsWith("<!doctype html") || head.startsWith("<html") || head.contains("<head") || head.contains(
        "<body")) {
      return "an HTML page, not an image (an error page?)";
    }
    if (head.startsWith("<?xml")) {
      return "an XML document, not an image";
    }
    if (head.startsWith("{") || head.startsWith("[")) {
      return "JSON or text, not an image";
    }
    if (b.length >= 12 && startsWith(b, 4, ascii("ftyp"))) {
      String brand = new String(b, 8, 4, StandardCharsets.ISO_8859_1);
      return "an ISO-BMFF file (brand '" + brand.trim() + "': HEIF/AVIF or video), not supported";
    }
    if (startsWith(b, 0, new byte[] {0, 0, 0, 0x0C, 'j', 'P'}) || startsWith(b, 0, new byte[] {(byte) 0xFF, 0x4F,
        (byte) 0xFF, 0x51})) {
      return "JPEG 2000, not supported";
    }
    if (startsWith(b, 0, new byte[] {(byte) 0xFF, 0x0A}) || startsWith(b, 4, ascii("JXL "))) {
      return "JPEG XL, not supported";
    }
    if (startsWith(b, 0, new byte[] {0x1F, (byte) 0x8B})) {
      return "a gzip archive, not an image";
    }
    if (startsWith(b, 0, ascii("PK\u0003\u0004"))) {
      return "a ZIP archive, not an image";
    }
    return "not a recognised image format";
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static boolean startsWith(byte[] b, int offset, byte[] prefix) {
    if (b.length < offset + prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[offset + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
