package io.semspai.perturb;

import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.plugins.jpeg.JPEGQTable;
import org.w3c.dom.NodeList;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Re-encodes as baseline JPEG at a quality and decodes it again, like upstream's
 * {@code A.ImageCompression(quality, quality, JPEG)}. The quantisation tables are libjpeg's at that quality
 * (OpenCV and PIL both use libjpeg; checked byte for byte against PIL), with 4:2:0 chroma subsampling, also
 * OpenCV's default. Pixels can still differ from upstream by a level or two (DCT
 * and colour-conversion rounding). One upstream quirk is not copied: albumentations hands OpenCV the RGB array as if it were BGR, so its
 * luma weights red and blue swapped; here the colours are encoded as they are.
 */
public record JpegCompression(int quality) implements Perturbation {
  private static final String NATIVE_FORMAT = "javax_imageio_jpeg_image_1.0";

  public JpegCompression {
    if (quality < 0 || quality > 100) {
      throw new PerturbationSpecException("jpeg=" + quality + ": quality must be from 0 to 100");
    }
  }

  @Override
  public PerturbationKind kind() {
    return PerturbationKind.JPEG;
  }

  @Override
  public double strength() {
    return quality;
  }

  @Override
  public boolean isIdentity() {
    return false;
  }

  @Override
  public RgbImage apply(RgbImage image, SplittableRandom random) {
    return decode(encode(image));
  }

  /** The JPEG bytes themselves, so derivative files keep exactly this compression. */
  public byte[] encode(RgbImage image) {
    int w = image.width();
    int h = image.height();
    BufferedImage bi = Pixels.toBufferedImage(image);
    ImageWriter writer = jdkJpegWriter();
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, w * h / 4));
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      // The tables go into the image metadata rather than through setCompressionQuality: ImageIO scales its
      // tables by a float and rounds some entries one lower than libjpeg's integers (35 * 0.3 at quality 85).
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_COPY_FROM_METADATA);
      IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(bi), param);
      IIOMetadataNode root = (IIOMetadataNode) metadata.getAsTree(NATIVE_FORMAT);
      NodeList tables = root.getElementsByTagName("dqtable");
      if (tables.getLength() != 2) {
        throw new IllegalStateException("expected 2 default JPEG quantisation tables, got " + tables.getLength());
      }
      for (int t = 0; t < tables.getLength(); t++) {
        IIOMetadataNode table = (IIOMetadataNode) tables.item(t);
        boolean luma = Integer.parseInt(table.getAttribute("qtableId")) == 0;
        table.setUserObject(libjpegTable(luma ? JPEGQTable.K1Luminance : JPEGQTable.K2Chrominance, quality));
      }
      metadata.setFromTree(NATIVE_FORMAT, root);
      writer.setOutput(stream);
      writer.write(null, new IIOImage(bi, null, metadata), param);
    } catch (IOException e) {
      throw new UncheckedIOException("JPEG encoding failed: " + e.getMessage(), e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  /**
   * libjpeg's {@code jpeg_set_quality}: scale percent 5000/q below 50 and 200-2q from 50 (quality 0 counts as 1),
   * each entry {@code (basic * scale + 50) / 100} in integers, clamped to 1..255 (baseline).
   */
  static JPEGQTable libjpegTable(JPEGQTable basic, int quality) {
    int q = Math.max(1, quality);
    int scale = q < 50 ? 5000 / q : 200 - 2 * q;
    int[] table = basic.getTable();
    for (int i = 0; i < table.length; i++) {
      long t = ((long) table[i] * scale + 50) / 100;
      table[i] = (int) Math.max(1, Math.min(255, t));
    }
    return new JPEGQTable(table);
  }

  /** The JDK's own writer: TwelveMonkeys registers a delegating one that may not pass explicit tables on. */
  private static ImageWriter jdkJpegWriter() {
    ImageWriter fallback = null;
    for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext(); ) {
      ImageWriter w = it.next();
      if (w.getClass().getName().equals("com.sun.imageio.plugins.jpeg.JPEGImageWriter")) {
        return w;
      }
      if (fallback == null) {
        fallback = w;
      }
    }
    if (fallback == null) {
      throw new IllegalStateException("no ImageIO JPEG writer on this JVM");
    }
    return fallback;
  }

  static RgbImage decode(byte[] jpeg) {
    try {
      return ImageDecoder.decode(jpeg);
    } catch (IOException e) {
      throw new UncheckedIOException("decoding our own JPEG failed: " + e.getMessage(), e);
    }
  }
}
