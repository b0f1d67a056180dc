package io.semspai.perturb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Against reference outputs made by make_perturb_fixtures.py (PIL, libjpeg and SciPy) on the same test pattern. */
class PerturbationReferenceTest {
  private static final RgbImage PATTERN = TestImages.pattern(37, 23);

  @ParameterizedTest
  @ValueSource(strings = {"0.5", "0.3", "1.7"})
  void antialiasedScaleMatchesPilBilinearWithinOneLevel(String factor) throws Exception {
    RgbImage expected = load("pil_scale_" + factor + ".png");
    RgbImage actual = new Rescale(Double.parseDouble(factor)).apply(PATTERN, new SplittableRandom(0));
    // PIL rounds its intermediate pass to 8 bits and uses fixed-point weights; this stays in double.
    compare(expected, actual, 1, 0.35);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0.5", "1", "2"})
  void blurMatchesScipyMirrorGaussian(String sigma) throws Exception {
    RgbImage expected = load("scipy_blur_" + sigma + ".png");
    RgbImage actual = new GaussianBlur(Double.parseDouble(sigma)).apply(PATTERN, new SplittableRandom(0));
    compare(expected, actual, 1, 0.01);
  }

  @ParameterizedTest
  @ValueSource(ints = {95, 85, 75, 50, 10})
  void jpegUsesLibjpegTablesAndSubsamplingAtEachQuality(int quality) throws Exception {
    JsonNode expected;
    try (InputStream in = PerturbationReferenceTest.class.getResourceAsStream("/perturb/jpeg_tables.json")) {
      expected = new ObjectMapper().readTree(in).get(Integer.toString(quality));
    }
    byte[] jpeg = new JpegCompression(quality).encode(PATTERN);
    List<String> dqt = new ArrayList<>();
    List<String> sampling = new ArrayList<>();
    int i = 2;
    while (i < jpeg.length) {
      int marker = jpeg[i + 1] & 0xFF;
      int length = ((jpeg[i + 2] & 0xFF) << 8) | (jpeg[i + 3] & 0xFF);
      int start = i + 4;
      if (marker == 0xDB) {
        for (int j = start; j < i + 2 + length; j += 65) {
          dqt.add(HexFormat.of().formatHex(jpeg, j + 1, j + 65));
        }
      } else if (marker == 0xC0) {
        int n = jpeg[start + 5] & 0xFF;
        for (int k = 0; k < n; k++) {
          sampling.add(HexFormat.of().formatHex(jpeg, start + 6 + 3 * k + 1, start + 6 + 3 * k + 2));
        }
      } else if (marker == 0xDA) {
        break;
      }
      i += 2 + length;
    }
    List<String> wantDqt = new ArrayList<>();
    expected.get("dqt").forEach(n -> wantDqt.add(n.asText()));
    List<String> wantSampling = new ArrayList<>();
    expected.get("sampling").forEach(n -> wantSampling.add(n.asText()));
    assertEquals(wantDqt, dqt, "quantisation tables at quality " + quality);
    assertEquals(wantSampling, sampling, "4:2:0 chroma subsampling");
  }

  private static void compare(RgbImage expected, RgbImage actual, int maxDiff, double maxMeanDiff) {
    assertEquals(expected.width(), actual.width());
    assertEquals(expected.height(), actual.height());
    int worst = 0;
    double total = 0;
    for (int i = 0; i < expected.rgb().length; i++) {
      int d = Math.abs((expected.rgb()[i] & 0xFF) - (actual.rgb()[i] & 0xFF));
      worst = Math.max(worst, d);
      total += d;
    }
    double mean = total / expected.rgb().length;
    assertTrue(worst <= maxDiff, "largest difference " + worst);
    assertTrue(mean <= maxMeanDiff, "mean difference " + mean);
  }

  private static RgbImage load(String name) throws Exception {
    try (InputStream in = PerturbationReferenceTest.class.getResourceAsStream("/perturb/" + name)) {
      return ImageDecoder.decode(in.readAllBytes());
    }
  }
}
