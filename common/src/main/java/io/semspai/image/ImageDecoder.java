package io.semspai.image;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadProgressListener;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns encoded bytes into {@link RgbImage}s, with the pixels PIL's
 * {@code Image.open(...).convert("RGB")} gives (see {@link Pixels} for the rules).
 *
 * <p>Decoding goes through ImageIO: TwelveMonkeys for JPEG and WebP, the JDK's readers for PNG, GIF, BMP and TIFF.
 * Around it:
 * <ul>
 *   <li>the format comes from magic bytes, and anything else (HTML, SVG, PDF) is refused by name;</li>
 *   <li>a structural walk per format checks size limits from the header before a pixel is allocated, and refuses
 *       truncated and checksum-failing files, which ImageIO would otherwise return as partly grey or black images;</li>
 *   <li>decoding runs on a worker with a deadline ({@code intake.decode-timeout}); on expiry the reader is aborted
 *       and the caller gets {@link IntakeReason#DECODE_TIMEOUT} at once;</li>
 *   <li>at most {@code intake.max-decodes-in-flight} decodes run at once, bounding decoder memory;</li>
 *   <li>any decoder failure short of a VM-fatal error, OutOfMemoryError from a malformed header's huge allocation
 *       included, becomes an {@link IntakeException}.</li>
 * </ul>
 * Thread-safe. {@link #close()} stops the workers of a decoder you created; the shared default one lives as long as
 * the JVM.
 */
public final class ImageDecoder implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);

  private static final Map<ImageFormat, List<String>> PREFERRED_READERS = Map.of(
      ImageFormat.JPEG, List.of("com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi"),
      ImageFormat.WEBP, List.of("com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi"),
      ImageFormat.PNG, List.of("com.sun.imageio.plugins.png.PNGImageReaderSpi"),
      ImageFormat.GIF, List.of("com.sun.imageio.plugins.gif.GIFImageReaderSpi"),
      ImageFormat.BMP, List.of("com.sun.imageio.plugins.bmp.BMPImageReaderSpi"),
      ImageFormat.TIFF, List.of("com.sun.imageio.plugins.tiff.TIFFImageReaderSpi"));

  /** Formats whose reader must be the preferred one: the JDK's JPEG reader gets CMYK wrong, and it has no WebP. */
  private static final List<ImageFormat> STRICT = List.of(ImageFormat.JPEG, ImageFormat.WEBP);

  private static final class DefaultHolder {
    static final ImageDecoder INSTANCE = new ImageDecoder(IntakePolicy.defaults());
  }

  private final IntakePolicy policy;
  private final Map<ImageFormat, ImageReaderSpi> readers;
  private final Semaphore slots;
  private final ExecutorService workers;

  public ImageDecoder(IntakePolicy policy) {
    this(policy, Map.of());
  }

  /** For tests: replaces the reader of some formats (to make a decoder hang, throw or run out of memory). */
  ImageDecoder(IntakePolicy policy, Map<ImageFormat, ImageReaderSpi> overrides) {
    this.policy = policy;
    Map<ImageFormat, ImageReaderSpi> found = findReaders();
    found.putAll(overrides);
    this.readers = found;
    this.slots = new Semaphore(policy.maxDecodesInFlight());
    AtomicInteger n = new AtomicInteger();
    ThreadFactory daemons = r -> {
      Thread t = new Thread(r, "intake-decode-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    this.workers = Executors.newCachedThreadPool(daemons);
  }

  /**
   * Decodes with the default limits. Kept for callers that only need pixels; failures are {@link IntakeException}s.
   */
  public static RgbImage decode(byte[] bytes) throws IOException {
    return DefaultHolder.INSTANCE.decode(bytes, "(inline " + bytes.length + " bytes)").image();
  }

  public IntakePolicy policy() {
    return policy;
  }

  /**
   * Decodes within this decoder's limits and deadline.
   *
   * @param label names the input in messages (a redacted URI, a path, a record key)
   */
  public DecodedImage decode(byte[] bytes, String label) throws IntakeException {
    if (bytes.length == 0) {
      throw IntakeReason.EMPTY.exception(label);
    }
    if (bytes.length > policy.maxBytes()) {
      throw IntakeReason.TOO_LARGE.exception(label, "the image (" + bytes.length + " bytes)", policy.maxBytes());
    }
    Deadline deadline = Deadline.after(policy.decodeTimeout());
    try {
      if (!slots.tryAcquire(deadline.remainingMillis(), TimeUnit.MILLISECONDS)) {
        throw IntakeReason.DECODE_TIMEOUT.exception(label, "no decode slot came free within "
            + policy.decodeTimeout().toMillis() + " ms (" + policy.maxDecodesInFlight()
            + " decodes in flight; see also intake.max-decodes-in-flight)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw IntakeReason.CANCELLED.exception(label, "waiting for a decode slot");
    }
    Control control = new Control();
    Future<DecodedImage> job;
    try {
      job = workers.submit(() -> {
        try {
          return decodeNow(bytes, label, control);
        } finally {
          // Released only when the work really ends: a decoder that ignores abort() keeps its slot and its memory.
          slots.release();
        }
      });
    } catch (RejectedExecutionException e) {
      slots.release();
      throw IntakeReason.DECODER_FAILURE.exception(e, label, "image", "the decoder has been closed");
    }
    try {
      return job.get(deadline.remainingMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      control.stop(job);
      throw IntakeReason.DECODE_TIMEOUT.exception(label,
          "decoding took longer than " + policy.decodeTimeout().toMillis() + " ms");
    } catch (InterruptedException e) {
      control.stop(job);
      Thread.currentThread().interrupt();
      throw IntakeReason.CANCELLED.exception(label, "decoding");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IntakeException ie) {
        throw ie;
      }
      if (cause instanceof Error err) {
        throw err; // only VM-fatal errors get here; decodeNow contains the rest
      }
      throw IntakeReason.DECODER_FAILURE.exception(cause, label, "image", String.valueOf(cause));
    }
  }

  /**
   * Stops a decode that ran out of time. The JDK's JPEG reader (which TwelveMonkeys wraps) is locked to its decoding
   * thread and throws if abort() comes from another, so the request is also handed over through a progress listener
   * that calls abort() on the decoding thread at its next scanline.
   */
  static final class Control {
    volatile boolean stopped;
    volatile ImageReader reader;

    void stop(Future<?> job) {
      stopped = true;
      ImageReader r = reader;
      if (r != null) {
        try {
          r.abort();
        } catch (IllegalStateException e) {
          // locked to the decoding thread: the progress listener aborts it there
        }
      }
      job.cancel(true);
    }

    IIOReadProgressListener listener() {
      return new IIOReadProgressListener() {
        @Override
        public void imageProgress(ImageReader source, float percentageDone) {
          if (stopped) {
            source.abort();
          }
        }

        @Override
        public void sequenceStarted(ImageReader source, int minIndex) {}

        @Override
        public void sequenceComplete(ImageReader source) {}

        @Override
        public void imageStarted(ImageReader source, int imageIndex) {}

        @Override
        public void imageComplete(ImageReader source) {}

        @Override
        public void thumbnailStarted(ImageReader source, int imageIndex, int thumbnailIndex) {}

        @Override
        public void thumbnailProgress(ImageReader source, float percentageDone) {}

        @Override
        public void thumbnailComplete(ImageReader source) {}

        @Override
        public void readAborted(ImageReader source) {}
      };
    }

    void check(String label) throws IntakeException {
      if (stopped) {
        throw IntakeReason.DECODE_TIMEOUT.exception(label, "decoding was stopped at its deadline");
      }
    }
  }

  @Override
  public void close() {
    if (this != DefaultHolder.INSTANCE) {
      workers.shutdownNow();
    }
  }

  /** Runs on a worker thread. */
  DecodedImage decodeNow(byte[] bytes, String label, Control control) throws IntakeException {
    ImageFormat format = ImageFormat.sniff(bytes).orElseThrow(
        () -> IntakeReason.UNSUPPORTED_FORMAT.exception(label, ImageFormat.describeUnknown(bytes)));
    String name = format.name();
    ImageReader reader = null;
    try {
      PngStructure.Dimensions dims = (w, h) -> checkDimensions(w, h, label);
      JpegStructure.Info jpeg = null;
      PngStructure.Header png = null;
      GifStructure.Info gif = null;
      byte[] exif = null;
      switch (format) {
        case JPEG -> {
          jpeg = JpegStructure.parse(bytes, label, dims);
          requireSupportedJpeg(jpeg, label);
          exif = jpeg.exif();
        }
        case PNG -> {
          png = PngStructure.check(bytes, label, dims);
          exif = png.exif();
        }
        case GIF -> gif = GifStructure.parse(bytes, label, dims);
        case WEBP -> exif = WebpStructure.check(bytes, label).exif();
        default -> {
          // BMP and TIFF: the reader's header is checked below, before reading pixels
        }
      }
      ImageReaderSpi spi = readers.get(format);
      if (spi == null) {
        throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "no " + name + " reader is installed");
      }
      reader = spi.createReaderInstance();
      control.reader = reader;
      reader.addIIOReadProgressListener(control.listener());
      List<String> warnings = Collections.synchronizedList(new ArrayList<>());
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
      RgbImage image;
      try (ImageInputStream in = new ByteArrayImageStream(bytes)) {
        reader.setInput(in, true, true);
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        if (format != ImageFormat.GIF) {
          checkDimensions(w, h, label);
        }
        ImageReadParam param = reader.getDefaultReadParam();
        if (format == ImageFormat.JPEG) {
          // Raw samples, so no ICC transform sneaks in and CMYK/YCCK is converted with PIL's formula.
          Raster raster = reader.readRaster(0, param);
          control.check(label);
          checkJpegWarnings(warnings, label);
          image = Pixels.fromJpegRaster(raster, jpeg.colorSpace(), label);
        } else {
          BufferedImage decoded = reader.read(0, param);
          control.check(label);
          image = format == ImageFormat.GIF
              ? Pixels.gifCanvas(decoded, gif, label)
              : Pixels.fromImage(decoded, png != null && png.colorType() == 4, label, name);
        }
        if (format != ImageFormat.GIF && (image.width() != w || image.height() != h)) {
          throw IntakeReason.CORRUPT.exception(label, name,
              "decoded " + image.width() + "×" + image.height() + " but the header says " + w + "×" + h);
        }
      }
      control.check(label);
      int orientation = format == ImageFormat.TIFF ? ExifOrientation.readTiff(bytes, 0) : ExifOrientation.read(exif);
      boolean rotate = policy.applyExifOrientation() && orientation != 1;
      return new DecodedImage(format, rotate ? ExifOrientation.apply(image, orientation) : image, orientation, rotate);
    } catch (IntakeException e) {
      throw e;
    } catch (OutOfMemoryError e) {
      // Thrown for one absurd allocation a malformed header asked for; the heap itself is fine.
      throw IntakeReason.DECODER_FAILURE.exception(e, label, name,
          "it ran out of memory on a malformed header (" + e.getMessage() + ")");
    } catch (StackOverflowError e) {
      throw IntakeReason.DECODER_FAILURE.exception(e, label, name, "stack overflow on a malformed structure");
    } catch (VirtualMachineError e) {
      throw e;
    } catch (IOException e) {
      if (looksTruncated(e)) {
        throw IntakeReason.TRUNCATED.exception(e, label, name, describe(e));
      }
      throw IntakeReason.CORRUPT.exception(e, label, name, describe(e));
    } catch (Throwable t) { // NOPMD: every decoder failure is contained, by design
      if (t instanceof ThreadDeath td) {
        throw td;
      }
      throw IntakeReason.DECODER_FAILURE.exception(t, label, name, describe(t));
    } finally {
      if (reader != null) {
        try {
          reader.dispose();
        } catch (RuntimeException e) {
          LOG.debug("image {}: reader.dispose failed", label, e);
        }
      }
    }
  }

  void checkDimensions(long w, long h, String label) throws IntakeException {
    if (w <= 0 || h <= 0) {
      throw IntakeReason.CORRUPT.exception(label, "image", "header gives size " + w + "×" + h);
    }
    if (w * h > policy.maxPixels()) {
      throw IntakeReason.TOO_MANY_PIXELS.exception(label, w, h, policy.maxPixels());
    }
    if (w > policy.maxWidth()) {
      throw IntakeReason.DIMENSION_TOO_LARGE.exception(label, w, h, "width", policy.maxWidth(), "width");
    }
    if (h > policy.maxHeight()) {
      throw IntakeReason.DIMENSION_TOO_LARGE.exception(label, w, h, "height", policy.maxHeight(), "height");
    }
  }

  private static void requireSupportedJpeg(JpegStructure.Info info, String label) throws IntakeException {
    int sof = info.sofMarker();
    if (sof == 0xC3 || sof == 0xC7 || sof == 0xCB || sof == 0xCF) {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "a lossless JPEG (neither PIL nor the intake reads it)");
    }
    if (sof == 0xC5 || sof == 0xC6 || sof == 0xC7) {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "a hierarchical JPEG");
    }
    if (sof >= 0xC9) {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "an arithmetic-coded JPEG (the Java decoder lacks it)");
    }
    if (info.precision() != 8) {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "a " + info.precision() + "-bit JPEG");
    }
    if (info.colorSpace() == null) {
      throw IntakeReason.UNSUPPORTED_FORMAT.exception(label, "a JPEG with " + info.components() + " components");
    }
  }

  /**
   * libjpeg only warns when data runs out, a marker cuts a scan short or entropy data is damaged, and fills the gap
   * with grey. PIL refuses the first; the intake refuses all three, since a grey-filled image must never be scored.
   * Benign warnings (extraneous bytes before a marker, odd progression) are only logged.
   */
  private static void checkJpegWarnings(List<String> warnings, String label) throws IntakeException {
    synchronized (warnings) {
      for (String w : warnings) {
        String l = w.toLowerCase(Locale.ROOT);
        if (l.contains("premature end") || l.contains("truncated") || l.contains("missing eoi")) {
          throw IntakeReason.TRUNCATED.exception(label, "JPEG", w);
        }
        if (l.contains("bad huffman") || l.contains("instead of rst")) {
          throw IntakeReason.CORRUPT.exception(label, "JPEG", w);
        }
        LOG.debug("image {}: JPEG decoder warning: {}", label, w);
      }
    }
  }

  static boolean looksTruncated(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EOFException) {
        return true;
      }
      String m = c.getMessage();
      if (m != null) {
        String l = m.toLowerCase(Locale.ROOT);
        if (l.contains("eof") || l.contains("end of stream") || l.contains("end of file") || l.contains("premature end")
            || l.contains("out of stream") || l.contains("unexpected end") || l.contains("truncated")) {
          return true;
        }
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  private static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = t.getMessage();
    String s = t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    if (root != t) {
      s += " (" + root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage()) + ")";
    }
    return s;
  }

  private static Map<ImageFormat, ImageReaderSpi> findReaders() {
    IIORegistry registry = IIORegistry.getDefaultInstance();
    Map<String, ImageReaderSpi> byClass = new java.util.HashMap<>();
    Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class, true);
    while (it.hasNext()) {
      ImageReaderSpi spi = it.next();
      byClass.put(spi.getClass().getName(), spi);
    }
    Map<ImageFormat, ImageReaderSpi> out = new EnumMap<>(ImageFormat.class);
    for (ImageFormat f : ImageFormat.values()) {
      ImageReaderSpi chosen = null;
      for (String cls : PREFERRED_READERS.get(f)) {
        chosen = byClass.get(cls);
        if (chosen != null) {
          break;
        }
      }
      if (chosen == null && !STRICT.contains(f)) {
        Iterator<ImageReaderSpi> any = registry.getServiceProviders(ImageReaderSpi.class,
            spi -> List.of(((ImageReaderSpi) spi).getFormatNames()).stream()
                .anyMatch(n -> n.equalsIgnoreCase(f.name())), true);
        chosen = any.hasNext() ? any.next() : null;
      }
      if (chosen == null) {
        LOG.warn("no ImageIO reader for {}; such images will be refused (is {} on the classpath?)", f,
            PREFERRED_READERS.get(f));
      } else {
        out.put(f, chosen);
      }
    }
    return out;
  }
}
