package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;

/** Deadlines, decode slots, containment of decoder crashes, per-format header limits, and a small fuzz run. */
class DecoderRobustnessTest {

  enum Mode { OOM, STACK_OVERFLOW, NPE, IIO, HANG, INTERNAL_ERROR }

  /** A PNG "reader" that misbehaves on read(), to exercise the containment around real readers. */
  static final class HostileSpi extends ImageReaderSpi {
    final Mode mode;

    HostileSpi(Mode mode) {
      super("test", "1", new String[] {"png"}, new String[] {"png"}, new String[] {"image/png"},
          HostileReader.class.getName(), new Class<?>[] {ImageInputStream.class}, null, false, null, null, null, null,
          false, null, null, null, null);
      this.mode = mode;
    }

    @Override
    public boolean canDecodeInput(Object source) {
      return true;
    }

    @Override
    public ImageReader createReaderInstance(Object extension) {
      return new HostileReader(this);
    }

    @Override
    public String getDescription(Locale locale) {
      return "hostile test reader";
    }
  }

  static final class HostileReader extends ImageReader {
    HostileReader(HostileSpi spi) {
      super(spi);
    }

    @Override
    public int getNumImages(boolean allowSearch) {
      return 1;
    }

    @Override
    public int getWidth(int imageIndex) {
      return 40;
    }

    @Override
    public int getHeight(int imageIndex) {
      return 30;
    }

    @Override
    public Iterator<ImageTypeSpecifier> getImageTypes(int imageIndex) {
      return List.of(ImageTypeSpecifier.createFromBufferedImageType(BufferedImage.TYPE_3BYTE_BGR)).iterator();
    }

    @Override
    public IIOMetadata getStreamMetadata() {
      return null;
    }

    @Override
    public IIOMetadata getImageMetadata(int imageIndex) {
      return null;
    }

    @Override
    public BufferedImage read(int imageIndex, ImageReadParam param) throws IOException {
      switch (((HostileSpi) originatingProvider).mode) {
        case OOM -> throw new OutOfMemoryError("Requested array size exceeds VM limit");
        case STACK_OVERFLOW -> throw new StackOverflowError();
        case NPE -> throw new NullPointerException("profile");
        case IIO -> throw new IIOException("Unsupported Image Type");
        case INTERNAL_ERROR -> throw new InternalError("the VM is in trouble");
        default -> {
          long end = System.nanoTime() + 1_500_000_000L;
          while (System.nanoTime() < end) {
            Thread.onSpinWait(); // ignores abort() and interrupts alike
          }
          return new BufferedImage(40, 30, BufferedImage.TYPE_3BYTE_BGR);
        }
      }
    }
  }

  private static ImageDecoder hostile(Mode mode, IntakePolicy policy) {
    return new ImageDecoder(policy, Map.of(ImageFormat.PNG, new HostileSpi(mode)));
  }

  @Test
  void decoderCrashesBecomeReasons() {
    byte[] png = CorpusTest.bytes("base.png");
    Map<Mode, IntakeReason> expected = new EnumMap<>(Map.of(Mode.OOM, IntakeReason.DECODER_FAILURE,
        Mode.STACK_OVERFLOW, IntakeReason.DECODER_FAILURE, Mode.NPE, IntakeReason.DECODER_FAILURE,
        Mode.IIO, IntakeReason.CORRUPT));
    for (Map.Entry<Mode, IntakeReason> e : expected.entrySet()) {
      try (ImageDecoder d = hostile(e.getKey(), IntakePolicy.defaults())) {
        IntakeException x = assertThrows(IntakeException.class, () -> d.decode(png, "crash.png"));
        assertEquals(e.getValue(), x.reason(), e.getKey() + ": " + x.getMessage());
        assertTrue(x.getMessage().startsWith("image crash.png: "), x.getMessage());
      }
    }
    try (ImageDecoder d = hostile(Mode.INTERNAL_ERROR, IntakePolicy.defaults())) {
      assertThrows(InternalError.class, () -> d.decode(png, "fatal.png"), "VM-fatal errors are not swallowed");
    }
  }

  @Test
  void aHangingDecoderHitsTheDeadlineAndKeepsItsSlotUntilItStops() throws Exception {
    byte[] png = CorpusTest.bytes("base.png");
    IntakePolicy policy = IntakePolicy.builder().decodeTimeout(Duration.ofMillis(300)).maxDecodesInFlight(1).build();
    try (ImageDecoder d = hostile(Mode.HANG, policy)) {
      long t0 = System.nanoTime();
      IntakeException first = assertThrows(IntakeException.class, () -> d.decode(png, "hang.png"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(IntakeReason.DECODE_TIMEOUT, first.reason());
      assertTrue(ms >= 250 && ms < 1_000, "returned after " + ms + " ms");
      IntakeException second = assertThrows(IntakeException.class, () -> d.decode(png, "next.png"));
      assertEquals(IntakeReason.DECODE_TIMEOUT, second.reason());
      assertTrue(second.getMessage().contains("no decode slot"), second.getMessage());
      Thread.sleep(1_500); // the runaway decode ends and gives its slot back
      assertEquals(IntakeReason.DECODE_TIMEOUT,
          assertThrows(IntakeException.class, () -> d.decode(png, "again.png")).reason(), "still hangs, but ran");
    }
  }

  @Test
  void aRealDecodeIsAbortedAtItsDeadline() throws Exception {
    byte[] big = noisyJpeg(3000, 2000, true);
    IntakePolicy tight = IntakePolicy.builder().decodeTimeout(Duration.ofMillis(20)).maxDecodesInFlight(1).build();
    try (ImageDecoder d = new ImageDecoder(tight)) {
      long t0 = System.nanoTime();
      IntakeException e = assertThrows(IntakeException.class, () -> d.decode(big, "big.jpg"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(IntakeReason.DECODE_TIMEOUT, e.reason(), e.getMessage());
      assertTrue(ms < 500, "returned after " + ms + " ms");
    }
    try (ImageDecoder d = new ImageDecoder(IntakePolicy.defaults())) {
      RgbImage img = d.decode(big, "big.jpg").image();
      assertEquals(3000 * 2000, img.pixelCount());
    }
  }

  @Test
  void everyFormatChecksItsHeaderAgainstTheLimits() throws Exception {
    List<String> files = List.of("base.png", "jpeg_baseline.jpg", "webp_lossless.webp", "gif_animated.gif",
        "bmp_rgb24.bmp", "tiff_rgb_lzw.tif");
    IntakePolicy fewPixels = IntakePolicy.builder().maxPixels(40 * 30 - 1).build();
    IntakePolicy narrow = IntakePolicy.builder().maxWidth(39).build();
    IntakePolicy low = IntakePolicy.builder().maxHeight(29).build();
    try (ImageDecoder a = new ImageDecoder(fewPixels); ImageDecoder b = new ImageDecoder(narrow);
        ImageDecoder c = new ImageDecoder(low)) {
      for (String f : files) {
        byte[] bytes = CorpusTest.bytes(f);
        IntakeException x = assertThrows(IntakeException.class, () -> a.decode(bytes, f));
        assertEquals(IntakeReason.TOO_MANY_PIXELS, x.reason(), f);
        assertTrue(x.getMessage().contains("40×30 px exceeds max-pixels 1199 (set intake.max-pixels)"),
            x.getMessage());
        IntakeException y = assertThrows(IntakeException.class, () -> b.decode(bytes, f));
        assertEquals(IntakeReason.DIMENSION_TOO_LARGE, y.reason(), f);
        assertTrue(y.getMessage().contains("max-width 39 (set intake.max-width)"), y.getMessage());
        assertEquals(IntakeReason.DIMENSION_TOO_LARGE,
            assertThrows(IntakeException.class, () -> c.decode(bytes, f)).reason(), f);
      }
    }
  }

  @Test
  void theStaticEntryDecodesWithDefaultsAndThrowsIoExceptions() throws IOException {
    RgbImage img = ImageDecoder.decode(CorpusTest.bytes("jpeg_cmyk.jpg"));
    assertEquals(40, img.width());
    IOException e = assertThrows(IOException.class, () -> ImageDecoder.decode(CorpusTest.bytes("html.jpg")));
    assertEquals(IntakeReason.UNSUPPORTED_FORMAT, ((IntakeException) e).reason());
  }

  @Test
  void mutatedFilesOnlyEverDecodeOrFailWithAReason() throws Exception {
    JsonNode manifest;
    try (InputStream in = CorpusTest.resource("manifest.json")) {
      manifest = new ObjectMapper().readTree(in);
    }
    Random random = new Random(20261127);
    Map<String, Integer> outcomes = new TreeMap<>();
    IntakePolicy policy = IntakePolicy.builder().decodeTimeout(Duration.ofSeconds(5)).build();
    int cases = 0;
    try (ImageDecoder d = new ImageDecoder(policy)) {
      for (JsonNode e : manifest.get("valid")) {
        String file = e.get("file").asText();
        byte[] original = CorpusTest.bytes(file);
        for (int i = 0; i < 12; i++) {
          byte[] m = mutate(original, random);
          cases++;
          long t0 = System.nanoTime();
          try {
            DecodedImage img = d.decode(m, file + "#" + i);
            assertTrue(img.image().pixelCount() > 0);
            outcomes.merge("decoded", 1, Integer::sum);
          } catch (IntakeException x) {
            outcomes.merge(x.reason().name(), 1, Integer::sum);
          }
          long ms = (System.nanoTime() - t0) / 1_000_000;
          assertTrue(ms < 5_000, file + "#" + i + " took " + ms + " ms");
        }
      }
    }
    System.out.println("fuzz outcomes over " + cases + " mutated files: " + outcomes);
    assertTrue(outcomes.getOrDefault("DECODER_FAILURE", 0) < cases / 4, String.valueOf(outcomes));
  }

  private static byte[] mutate(byte[] b, Random r) {
    byte[] m = b.clone();
    switch (r.nextInt(4)) {
      case 0 -> {
        for (int k = 0, n = 1 + r.nextInt(8); k < n; k++) {
          m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 1 -> m = java.util.Arrays.copyOf(m, Math.max(1, r.nextInt(m.length)));
      case 2 -> {
        int at = 8 + r.nextInt(Math.max(1, Math.min(64, m.length - 8)));
        for (int k = 0; k < 4 && at + k < m.length; k++) {
          m[at + k] = (byte) 0xFF; // header fields: sizes, lengths, counts
        }
      }
      default -> {
        int at = r.nextInt(m.length);
        int len = Math.min(m.length - at, 1 + r.nextInt(64));
        byte[] junk = new byte[len];
        r.nextBytes(junk);
        System.arraycopy(junk, 0, m, at, len);
      }
    }
    return m;
  }

  /** A noisy RGB JPEG written by the JDK's encoder: noise keeps the entropy-coded data (and decoding) heavy. */
  static byte[] noisyJpeg(int w, int h, boolean progressive) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    byte[] data = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
    Random r = new Random(1);
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) ((i / 3 % w) + r.nextInt(64));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.imageio.ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
    if (progressive) {
      param.setProgressiveMode(javax.imageio.ImageWriteParam.MODE_DEFAULT);
    }
    param.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(0.9f);
    try (javax.imageio.stream.ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.write(null, new javax.imageio.IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }
}
