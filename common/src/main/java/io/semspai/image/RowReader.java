package io.semspai.image;

import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.Raster;

/**
 * Reads one row of a raster's samples, band-interleaved, into an int array. {@link Raster#getPixels} goes through
 * the sample model once per pixel, which cost as much as decoding itself on a 12 MP JPEG; byte and ushort
 * component rasters (what the JPEG, PNG and WebP readers produce) are read straight from their arrays instead.
 */
final class RowReader {
  private final Raster raster;
  private final int width;
  private final int bands;
  private final byte[][] bytes;
  private final short[][] shorts;
  private final int[] start;
  private final int pixelStride;
  private final int scanlineStride;

  RowReader(Raster raster) {
    this.raster = raster;
    this.width = raster.getWidth();
    this.bands = raster.getNumBands();
    DataBuffer db = raster.getDataBuffer();
    byte[][] b = null;
    short[][] s = null;
    int[] st = null;
    int ps = 0;
    int ss = 0;
    if (raster.getSampleModel() instanceof ComponentSampleModel sm
        && (db instanceof DataBufferByte || db instanceof DataBufferUShort)) {
      int[] bankIndices = sm.getBankIndices();
      int[] bandOffsets = sm.getBandOffsets();
      int[] dbOffsets = db.getOffsets();
      st = new int[bands];
      int x0 = raster.getMinX() - raster.getSampleModelTranslateX();
      int y0 = raster.getMinY() - raster.getSampleModelTranslateY();
      ps = sm.getPixelStride();
      ss = sm.getScanlineStride();
      if (db instanceof DataBufferByte dbb) {
        b = new byte[bands][];
        for (int i = 0; i < bands; i++) {
          b[i] = dbb.getData(bankIndices[i]);
        }
      } else {
        s = new short[bands][];
        for (int i = 0; i < bands; i++) {
          s[i] = ((DataBufferUShort) db).getData(bankIndices[i]);
        }
      }
      for (int i = 0; i < bands; i++) {
        st[i] = dbOffsets[bankIndices[i]] + y0 * ss + x0 * ps + bandOffsets[i];
      }
    }
    this.bytes = b;
    this.shorts = s;
    this.start = st;
    this.pixelStride = ps;
    this.scanlineStride = ss;
  }

  int bands() {
    return bands;
  }

  /** Samples of row {@code y} (0-based within the raster) as {@code out[x * bands + band]}. */
  void row(int y, int[] out) {
    if (bytes != null) {
      for (int band = 0; band < bands; band++) {
        byte[] data = bytes[band];
        int p = start[band] + y * scanlineStride;
        for (int x = 0, o = band; x < width; x++, o += bands, p += pixelStride) {
          out[o] = data[p] & 0xFF;
        }
      }
    } else if (shorts != null) {
      for (int band = 0; band < bands; band++) {
        short[] data = shorts[band];
        int p = start[band] + y * scanlineStride;
        for (int x = 0, o = band; x < width; x++, o += bands, p += pixelStride) {
          out[o] = data[p] & 0xFFFF;
        }
      }
    } else {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, out);
    }
  }
}
