package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every file of the committed corpus (made by tools/intake-fixtures/make_corpus.py with Debian's Pillow) either
 * decodes to PIL's pixels or is refused with the expected reason.
 */
class CorpusTest {
  private static JsonNode manifest;
  private static ImageDecoder plain;
  private static ImageDecoder oriented;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = resource("manifest.json")) {
      manifest = new ObjectMapper().readTree(in);
    }
    plain = new ImageDecoder(IntakePolicy.defaults());
    oriented = new ImageDecoder(IntakePolicy.builder().applyExifOrientation(true).build());
  }

  @AfterAll
  static void close() {
    plain.close();
    oriented.close();
  }

  static InputStream resource(String name) {
    InputStream in = CorpusTest.class.getResourceAsStream("/intake/" + name);
    if (in == null) {
      throw new IllegalStateException("missing test resource intake/" + name);
    }
    return in;
  }

  static byte[] bytes(String name) {
    try (InputStream in = resource(name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] gunzip(String name) {
    try (InputStream in = new GZIPInputStream(resource(name))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @TestFactory
  List<DynamicTest> validFilesDecodeToPilPixels() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode e : manifest.get("valid")) {
      String file = e.get("file").asText();
      tests.add(DynamicTest.dynamicTest(file, () -> {
        DecodedImage d = plain.decode(bytes(file), file);
        assertEquals(e.get("format").asText(), d.format().name(), "format");
        assertPixels(file, e.get("width").asInt(), e.get("height").asInt(), gunzip("expected/" + file + ".rgb.gz"),
            d.image(), e.get("maxAbs").asInt(), e.get("maxMeanAbs").asDouble());
        assertTrue(!d.orientationApplied(), "orientation is off by default");
      }));
    }
    return tests;
  }

  @TestFactory
  List<DynamicTest> exifOrientationMatchesPilExifTransposeWhenEnabled() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode e : manifest.get("valid")) {
      String file = e.get("file").asText();
      if (!e.has("orientedWidth")) {
        continue;
      }
      tests.add(DynamicTest.dynamicTest(file, () -> {
        DecodedImage d = oriented.decode(bytes(file), file);
        assertTrue(d.orientationApplied());
        assertPixels(file, e.get("orientedWidth").asInt(), e.get("orientedHeight").asInt(),
            gunzip("expected/" + file + ".oriented.rgb.gz"), d.image(), e.get("maxAbs").asInt(),
            e.get("maxMeanAbs").asDouble());
      }));
    }
    assertEquals(8, tests.size(), "orientations 2..8 as PNG plus one JPEG");
    return tests;
  }

  @TestFactory
  List<DynamicTest> hostileFilesAreRefusedWithTheirReason() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode e : manifest.get("refused")) {
      String file = e.get("file").asText();
      IntakeReason want = IntakeReason.valueOf(e.get("reason").asText());
      tests.add(DynamicTest.dynamicTest(file + " -> " + want, () -> {
        IntakeException x = assertThrows(IntakeException.class, () -> plain.decode(bytes(file), file));
        assertEquals(want, x.reason(), x.getMessage());
        assertTrue(x.getMessage().startsWith("image " + file + ": "), x.getMessage());
      }));
    }
    return tests;
  }

  static void assertPixels(String file, int w, int h, byte[] expected, RgbImage got, int maxAbs, double maxMean) {
    assertEquals(w + "x" + h, got.width() + "x" + got.height(), file + " size");
    byte[] actual = got.rgb();
    assertEquals(expected.length, actual.length);
    int worst = 0;
    long sum = 0;
    int firstDiff = -1;
    for (int i = 0; i < actual.length; i++) {
      int d = Math.abs((actual[i] & 0xFF) - (expected[i] & 0xFF));
      if (d > 0 && firstDiff < 0) {
        firstDiff = i;
      }
      worst = Math.max(worst, d);
      sum += d;
    }
    double mean = (double) sum / actual.length;
    String where = firstDiff < 0 ? "" : String.format(" (first at pixel %d,%d channel %d: got %d, PIL %d)",
        firstDiff / 3 % w, firstDiff / 3 / w, firstDiff % 3, actual[firstDiff] & 0xFF, expected[firstDiff] & 0xFF);
    if (worst > maxAbs || (maxMean > 0 && mean > maxMean)) {
      fail(String.format("%s differs from PIL: max %d (allowed %d), mean %.3f (allowed %.3f)%s", file, worst, maxAbs,
          mean, maxMean, where));
    }
    System.out.printf("%-28s max %3d mean %.3f%n", file, worst, mean);
  }
}
