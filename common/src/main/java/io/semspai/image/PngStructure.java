package io.semspai.image;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Walks a PNG's chunks before ImageIO sees it. ImageIO's PNG reader fills missing rows with zeros and never checks
 * CRCs after the header, so without this walk a truncated PNG would be scored as a partly black image. The walk:
 * checks the IHDR size against the limits before anything is inflated; checks every chunk's CRC; inflates the image
 * data into a small scratch buffer (nothing is kept) to prove it is complete and its Adler-32 is right, stopping
 * once it inflates well past what the header needs (a zlib bomb); and inflates compressed text and ICC chunks only up
 * to PIL's limits (1 MiB per chunk, 64 MiB in all), because PIL refuses files beyond them.
 */
final class PngStructure {
  static final int TEXT_CHUNK_LIMIT = 1 << 20;
  static final long TEXT_TOTAL_LIMIT = 64L << 20;
  static final long IDAT_SLACK = 1 << 20;

  record Header(int width, int height, int bitDepth, int colorType, boolean interlaced, byte[] exif) {}

  interface Dimensions {
    void check(long width, long height) throws IntakeException;
  }

  private PngStructure() {}

  static Header check(byte[] b, String label, Dimensions dims) throws IntakeException {
    int pos = 8;
    int width = 0;
    int height = 0;
    int depth = 0;
    int colorType = 0;
    boolean interlaced = false;
    boolean haveHeader = false;
    boolean idatSeen = false;
    boolean idatClosed = false;
    boolean streamEnd = false;
    boolean iend = false;
    long expected = 0;
    long inflated = 0;
    long textTotal = 0;
    byte[] exif = null;
    byte[] scratch = new byte[32 * 1024];
    Inflater inflater = new Inflater();
    try {
      while (pos < b.length) {
        boolean complete = idatSeen && inflated >= expected;
        if (pos + 12 > b.length) {
          if (complete) {
            break; // a cut after the image data, inside a trailing chunk: PIL accepts it too
          }
          throw IntakeReason.TRUNCATED.exception(label, "PNG", "chunk header cut short at byte " + pos);
        }
        long len = u32(b, pos);
        String type = new String(b, pos + 4, 4, StandardCharsets.ISO_8859_1);
        if (len > Integer.MAX_VALUE || pos + 12 + len > b.length) {
          if (complete && !type.equals("IDAT")) {
            break;
          }
          throw IntakeReason.TRUNCATED.exception(label, "PNG",
              "chunk " + printable(type) + " at byte " + pos + " is cut short");
        }
        int data = pos + 8;
        int n = (int) len;
        CRC32 crc = new CRC32();
        crc.update(b, pos + 4, n + 4);
        if (crc.getValue() != u32(b, data + n)) {
          throw IntakeReason.CORRUPT.exception(label, "PNG", "chunk " + printable(type) + " fails its CRC");
        }
        if (!haveHeader) {
          if (!type.equals("IHDR") || n != 13) {
            throw IntakeReason.CORRUPT.exception(label, "PNG", "does not start with an IHDR chunk");
          }
          width = (int) Math.min(u32(b, data), Integer.MAX_VALUE);
          height = (int) Math.min(u32(b, data + 4), Integer.MAX_VALUE);
          depth = b[data + 8] & 0xFF;
          colorType = b[data + 9] & 0xFF;
          int interlace = b[data + 12] & 0xFF;
          if (width == 0 || height == 0) {
            throw IntakeReason.CORRUPT.exception(label, "PNG", "zero width or height");
          }
          // The limits come first, before a byte is inflated.
          dims.check(u32(b, data), u32(b, data + 4));
          int channels = channels(colorType, depth);
          if (channels == 0 || b[data + 10] != 0 || b[data + 11] != 0 || interlace > 1) {
            throw IntakeReason.CORRUPT.exception(label, "PNG",
                "invalid IHDR (colour type " + colorType + ", depth " + depth + ")");
          }
          interlaced = interlace == 1;
          expected = rawSize(width, height, channels * depth, interlaced);
          haveHeader = true;
        } else if (type.equals("IDAT")) {
          if (idatClosed) {
            throw IntakeReason.CORRUPT.exception(label, "PNG", "IDAT chunks are not consecutive");
          }
          idatSeen = true;
          if (!streamEnd && n > 0) {
            inflater.setInput(b, data, n);
            while (!inflater.finished() && !inflater.needsInput()) {
              int got = inflater.inflate(scratch);
              inflated += got;
              if (inflated > expected + IDAT_SLACK) {
                throw IntakeReason.DECOMPRESSION_BOMB.exception(label, "PNG image data", expected + IDAT_SLACK,
                    width + "×" + height + " needs " + expected + " bytes");
              }
              if (got == 0 && inflater.needsDictionary()) {
                throw IntakeReason.CORRUPT.exception(label, "PNG", "image data wants a preset dictionary");
              }
            }
            streamEnd = inflater.finished();
          }
        } else {
          if (idatSeen) {
            idatClosed = true;
          }
          switch (type) {
            case "IEND" -> iend = true;
            case "zTXt", "iCCP" -> textTotal += inflateText(b, data, n, 0, label, type);
            case "iTXt" -> textTotal += itxt(b, data, n, label);
            case "tEXt" -> textTotal += n;
            case "eXIf" -> {
              if (exif == null) {
                exif = java.util.Arrays.copyOfRange(b, data, data + n);
              }
            }
            default -> {
              // other chunks are checked by their CRC only
            }
          }
          if (textTotal > TEXT_TOTAL_LIMIT) {
            throw IntakeReason.DECOMPRESSION_BOMB.exception(label, "PNG text chunks", TEXT_TOTAL_LIMIT,
                "PIL refuses more than 64 MiB of text");
          }
          if (iend) {
            break;
          }
        }
        pos = data + n + 4;
      }
    } catch (DataFormatException e) {
      throw IntakeReason.CORRUPT.exception(e, label, "PNG", "image data: " + e.getMessage());
    } finally {
      inflater.end();
    }
    if (!haveHeader) {
      throw IntakeReason.TRUNCATED.exception(label, "PNG", "no IHDR chunk");
    }
    if (!idatSeen) {
      if (iend) {
        throw IntakeReason.CORRUPT.exception(label, "PNG", "no image data");
      }
      throw IntakeReason.TRUNCATED.exception(label, "PNG", "file ends before the image data");
    }
    if (inflated < expected) {
      if (streamEnd) {
        throw IntakeReason.CORRUPT.exception(label, "PNG",
            "image data holds " + inflated + " of the " + expected + " bytes its size needs");
      }
      throw IntakeReason.TRUNCATED.exception(label, "PNG",
          "image data ends after " + inflated + " of " + expected + " bytes");
    }
    return new Header(width, height, depth, colorType, interlaced, exif);
  }

  /** Inflates a compressed text/ICC payload ({@code keyword NUL method data}) up to PIL's per-chunk limit. */
  private static long inflateText(byte[] b, int data, int n, int extra, String label, String type)
      throws IntakeException {
    int nul = indexOf(b, data, data + Math.min(n, 80), (byte) 0);
    if (nul < 0 || nul + 2 + extra > data + n) {
      return n; // malformed keyword: PIL skips such chunks
    }
    return inflateCapped(b, nul + 2 + extra, data + n - (nul + 2 + extra), label, type);
  }

  private static long itxt(byte[] b, int data, int n, String label) throws IntakeException {
    int nul = indexOf(b, data, data + Math.min(n, 80), (byte) 0);
    if (nul < 0 || nul + 3 > data + n || b[nul + 1] != 1) {
      return n; // uncompressed iTXt
    }
    int lang = indexOf(b, nul + 3, data + n, (byte) 0);
    int trans = lang < 0 ? -1 : indexOf(b, lang + 1, data + n, (byte) 0);
    if (trans < 0) {
      return n;
    }
    return inflateCapped(b, trans + 1, data + n - (trans + 1), label, "iTXt");
  }

  private static long inflateCapped(byte[] b, int off, int len, String label, String type) throws IntakeException {
    Inflater inf = new Inflater();
    byte[] scratch = new byte[16 * 1024];
    long total = 0;
    try {
      inf.setInput(b, off, Math.max(0, len));
      while (!inf.finished() && !inf.needsInput()) {
        int got = inf.inflate(scratch);
        total += got;
        if (total > TEXT_CHUNK_LIMIT) {
          throw IntakeReason.DECOMPRESSION_BOMB.exception(label, "PNG " + type + " chunk", TEXT_CHUNK_LIMIT,
              "PIL refuses compressed text or ICC chunks above 1 MiB");
        }
        if (got == 0 && inf.needsDictionary()) {
          break;
        }
      }
    } catch (DataFormatException e) {
      // PIL ignores a broken compressed text or ICC chunk; so does the intake
    } finally {
      inf.end();
    }
    return total;
  }

  static int channels(int colorType, int depth) {
    return switch (colorType) {
      case 0 -> (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16) ? 1 : 0;
      case 2 -> (depth == 8 || depth == 16) ? 3 : 0;
      case 3 -> (depth == 1 || depth == 2 || depth == 4 || depth == 8) ? 1 : 0;
      case 4 -> (depth == 8 || depth == 16) ? 2 : 0;
      case 6 -> (depth == 8 || depth == 16) ? 4 : 0;
      default -> 0;
    };
  }

  /** Filter bytes plus packed samples, over the seven Adam7 passes when interlaced. */
  static long rawSize(long w, long h, int bitsPerPixel, boolean interlaced) {
    if (!interlaced) {
      return h * (1 + (w * bitsPerPixel + 7) / 8);
    }
    int[][] passes = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    long total = 0;
    for (int[] p : passes) {
      long pw = (w - p[0] + p[2] - 1) / p[2];
      long ph = (h - p[1] + p[3] - 1) / p[3];
      if (pw > 0 && ph > 0) {
        total += ph * (1 + (pw * bitsPerPixel + 7) / 8);
      }
    }
    return total;
  }

  private static int indexOf(byte[] b, int from, int to, byte v) {
    for (int i = from; i < Math.min(to, b.length); i++) {
      if (b[i] == v) {
        return i;
      }
    }
    return -1;
  }

  static long u32(byte[] b, int p) {
    return ((b[p] & 0xFFL) << 24) | ((b[p + 1] & 0xFFL) << 16) | ((b[p + 2] & 0xFFL) << 8) | (b[p + 3] & 0xFFL);
  }

  private static String printable(String type) {
    return type.matches("[A-Za-z]{4}") ? type : "(binary type)";
  }
}
