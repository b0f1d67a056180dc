package io.semspai.perturb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PerturbationTest {
  private static final SplittableRandom ANY = new SplittableRandom(0);

  @Test
  void jpegQualityChangesTheBytesAndLowersPsnrAsItDrops() throws Exception {
    RgbImage img = TestImages.photoLike(128, 96, 1);
    int[] qualities = {95, 85, 75, 50, 10};
    double previousPsnr = Double.POSITIVE_INFINITY;
    int previousSize = Integer.MAX_VALUE;
    byte[] previousBytes = null;
    for (int q : qualities) {
      JpegCompression jpeg = new JpegCompression(q);
      byte[] bytes = jpeg.encode(img);
      assertEquals((byte) 0xFF, bytes[0]);
      assertEquals((byte) 0xD8, bytes[1], "a JPEG starts with SOI");
      assertFalse(Arrays.equals(bytes, previousBytes), "quality " + q + " must change the bytes");
      assertTrue(bytes.length < previousSize, "quality " + q + " should shrink the file: " + bytes.length);
      RgbImage out = jpeg.apply(img, ANY);
      assertEquals(img.width(), out.width());
      assertEquals(img.height(), out.height());
      double psnr = ImageQuality.psnr(img, out);
      assertTrue(psnr < previousPsnr, "PSNR at quality " + q + " is " + psnr + ", not below " + previousPsnr);
      // The decoded pixels are the JPEG's own: decoding the bytes gives the same image.
      assertArrayEquals(ImageDecoder.decode(bytes).rgb(), out.rgb());
      previousPsnr = psnr;
      previousSize = bytes.length;
      previousBytes = bytes;
    }
    double q95 = ImageQuality.psnr(img, new JpegCompression(95).apply(img, ANY));
    assertTrue(q95 - previousPsnr > 6, "quality 95 (" + q95 + " dB) vs 10 (" + previousPsnr + " dB)");
  }

  @Test
  void scaleChangesTheSizeLikeAlbumentations() {
    RgbImage img = TestImages.pattern(100, 60);
    RgbImage half = new Rescale(0.5).apply(img, ANY);
    assertEquals(50, half.width());
    assertEquals(30, half.height());
    RgbImage up = new Rescale(1.25).apply(img, ANY);
    assertEquals(125, up.width());
    assertEquals(75, up.height());
    // int(100 * 0.29) is 28 in Python and Java alike (100*0.29 = 28.999...).
    assertEquals(28, new Rescale(0.29).apply(img, ANY).width());
    assertEquals(1, new Rescale(0.001).apply(img, ANY).width());
    assertSame(img, new Rescale(1).apply(img, ANY));
    // A constant image stays constant at any size (weights are normalised).
    RgbImage flat = new Rescale(0.37).apply(TestImages.constant(50, 40, 200), ANY);
    for (byte b : flat.rgb()) {
      assertEquals(200, b & 0xFF);
    }
  }

  @Test
  void cropChangesTheDimensionsAndKeepsTheCentre() {
    RgbImage img = TestImages.pattern(100, 50);
    RgbImage c = new CenterCrop(0.8).apply(img, ANY);
    assertEquals(80, c.width());
    assertEquals(40, c.height());
    // Offset (100-80)/2 = 10, (50-40)/2 = 5: pixel (0,0) of the crop is (10,5) of the source.
    for (int ch = 0; ch < 3; ch++) {
      assertEquals(TestImages.at(img, 10, 5, ch), TestImages.at(c, 0, 0, ch));
      assertEquals(TestImages.at(img, 89, 44, ch), TestImages.at(c, 79, 39, ch));
    }
    assertSame(img, new CenterCrop(1).apply(img, ANY));
  }

  @Test
  void randomCropIsSeededAndStaysInside() {
    RgbImage img = TestImages.pattern(100, 50);
    RandomCrop rc = new RandomCrop(0.5);
    RgbImage a = rc.apply(img, new SplittableRandom(3));
    RgbImage b = rc.apply(img, new SplittableRandom(3));
    assertEquals(50, a.width());
    assertEquals(25, a.height());
    assertArrayEquals(a.rgb(), b.rgb());
    boolean moved = false;
    for (long s = 0; s < 10 && !moved; s++) {
      moved = !Arrays.equals(a.rgb(), rc.apply(img, new SplittableRandom(100 + s)).rgb());
    }
    assertTrue(moved, "different seeds should move the window");
  }

  @Test
  void blurLowersHighFrequencyEnergyMoreAsSigmaGrows() {
    RgbImage img = TestImages.photoLike(96, 64, 2);
    double e0 = TestImages.highFrequencyEnergy(img);
    double e1 = TestImages.highFrequencyEnergy(new GaussianBlur(0.5).apply(img, ANY));
    double e2 = TestImages.highFrequencyEnergy(new GaussianBlur(1).apply(img, ANY));
    double e3 = TestImages.highFrequencyEnergy(new GaussianBlur(2).apply(img, ANY));
    assertTrue(e1 < e0 && e2 < e1 && e3 < e2, e0 + " > " + e1 + " > " + e2 + " > " + e3);
    assertTrue(e3 < e0 / 10, "sigma 2 should remove most of the pixel noise");
    assertEquals(7, new GaussianBlur(1).kernelSize());
    assertEquals(3, new GaussianBlur(0.3).kernelSize());
    assertEquals(13, new GaussianBlur(2).kernelSize());
    RgbImage flat = new GaussianBlur(3).apply(TestImages.constant(5, 4, 77), ANY); // kernel wider than the image
    for (byte b : flat.rgb()) {
      assertEquals(77, b & 0xFF);
    }
  }

  @Test
  void reflect101MirrorsWithoutRepeatingTheEdge() {
    // dcb|abcd|cba for n = 4
    int[] expected = {3, 2, 1, 0, 1, 2, 3, 2, 1, 0};
    for (int i = -3; i <= 6; i++) {
      assertEquals(expected[i + 3], GaussianBlur.reflect101(i, 4), "index " + i);
    }
    assertEquals(0, GaussianBlur.reflect101(-5, 1));
    assertEquals(1, GaussianBlur.reflect101(-11, 4)); // far outside, kernels wider than the image
  }

  @Test
  void noiseIsSeededAndHasTheRequestedSpread() {
    RgbImage gray = TestImages.constant(64, 64, 128);
    GaussianNoise noise = new GaussianNoise(5);
    RgbImage a = noise.apply(gray, new SplittableRandom(11));
    RgbImage b = noise.apply(gray, new SplittableRandom(11));
    RgbImage c = noise.apply(gray, new SplittableRandom(12));
    assertArrayEquals(a.rgb(), b.rgb());
    assertFalse(Arrays.equals(a.rgb(), c.rgb()));
    double mean = 0;
    double sq = 0;
    for (byte v : a.rgb()) {
      mean += (v & 0xFF);
    }
    mean /= a.rgb().length;
    for (byte v : a.rgb()) {
      sq += ((v & 0xFF) - mean) * ((v & 0xFF) - mean);
    }
    double sd = Math.sqrt(sq / a.rgb().length);
    assertEquals(5, sd, 0.15);
    // Truncation toward zero, as albumentations' astype(uint8): the mean drops by about half a level.
    assertEquals(127.5, mean, 0.1);
    // Clipping at the ends.
    RgbImage white = new GaussianNoise(50).apply(TestImages.constant(8, 8, 255), new SplittableRandom(1));
    for (byte v : white.rgb()) {
      assertTrue((v & 0xFF) <= 255);
    }
  }

  @Test
  void pipelineRunsInUpstreamOrderWhateverTheTypedOrder() {
    PerturbationPipeline p = PerturbationPipeline.parse(" crop=0.5, scale=0.5,noise=2 ,jpeg=90,blur=1");
    assertEquals(List.of(PerturbationKind.JPEG, PerturbationKind.BLUR, PerturbationKind.NOISE, PerturbationKind.SCALE,
        PerturbationKind.CROP), p.steps().stream().map(Perturbation::kind).toList());
    assertEquals("jpeg=90,blur=1,noise=2,scale=0.5,crop=0.5", p.spec());
    assertEquals(p, PerturbationPipeline.parse(p.spec()));

    // Functionally: noise then scale (upstream) differs from scale then noise; the pipeline does the former.
    RgbImage img = TestImages.photoLike(64, 48, 3);
    long seed = 99;
    PerturbationPipeline ns = PerturbationPipeline.parse("scale=0.5,noise=8");
    Perturbed out = ns.apply(img, seed);
    RgbImage manual = img;
    for (Perturbation step : ns.steps()) {
      manual = step.apply(manual, new SplittableRandom(Seeds.mix(seed + 0x9E3779B97F4A7C15L * (step.kind().ordinal() + 1))));
    }
    assertArrayEquals(manual.rgb(), out.image().rgb());
    assertEquals(32, out.image().width());
    assertArrayEquals(out.image().rgb(), ns.apply(img, seed).image().rgb(), "same seed, same derivative");
    assertFalse(Arrays.equals(out.image().rgb(), ns.apply(img, seed + 1).image().rgb()));
  }

  @Test
  void jpegBytesAreKeptOnlyWhenJpegIsTheLastChange() {
    RgbImage img = TestImages.photoLike(48, 32, 4);
    Perturbed onlyJpeg = PerturbationPipeline.parse("jpeg=70").apply(img, 1);
    assertNotNull(onlyJpeg.jpegBytes());
    assertEquals("jpg", onlyJpeg.fileExtension());
    Perturbed identityAfter = PerturbationPipeline.parse("jpeg=70,blur=0,scale=1").apply(img, 1);
    assertArrayEquals(onlyJpeg.jpegBytes(), identityAfter.jpegBytes());
    Perturbed blurred = PerturbationPipeline.parse("jpeg=70,blur=1").apply(img, 1);
    assertNull(blurred.jpegBytes());
    assertEquals("png", blurred.fileExtension());
    assertTrue(PerturbationPipeline.parse("blur=0,noise=0,crop=1").isIdentity());
    assertSame(img, PerturbationPipeline.NONE.apply(img, 5).image());
  }

  @Test
  void badSpecsSayWhatIsWrong() {
    assertMessage("unknown perturbation 'jpg': expected one of jpeg, webp, blur, noise, scale, crop, rcrop", "jpg=75");
    assertMessage("'jpeg' in --perturb \"jpeg\" is not kind=value", "jpeg");
    assertMessage("jpeg=high: 'high' is not a number", "jpeg=high");
    assertMessage("jpeg=101: quality must be a whole number from 0 to 100", "jpeg=101");
    assertMessage("jpeg=75.5: quality must be a whole number", "jpeg=75.5");
    assertMessage("scale=0: must be greater than 0", "scale=0");
    assertMessage("blur=-1: must be at least 0", "blur=-1");
    assertMessage("crop=1.5: must be in (0, 1]", "crop=1.5");
    assertMessage("jpeg is given twice", "jpeg=75,jpeg=50");
    assertMessage("crop and rcrop cannot be combined", "crop=0.5,rcrop=0.5");
    assertMessage("blur needs a value", "blur=");
    assertMessage("NaN", "noise=NaN");
    PerturbationSpecException webp = assertThrows(PerturbationSpecException.class,
        () -> PerturbationPipeline.parse("webp=80"));
    assertTrue(webp.getMessage().contains("WebP encoding is not available"), webp.getMessage());
    assertEquals(PerturbationPipeline.NONE, PerturbationPipeline.parse("  "));
  }

  @Test
  void sweepsExpandIntoOnePipelinePerStrength() {
    Sweep sweep = Sweep.parse(List.of("jpeg=95,85,75,50", "scale=0.5,0.75,1.25", "blur=0.5,1,2"));
    List<SweepPoint> points = sweep.points(PerturbationPipeline.parse("crop=0.9"));
    assertEquals(10, points.size());
    assertEquals("jpeg=95", points.get(0).label());
    assertEquals("jpeg_95", points.get(0).slug());
    assertEquals("scale_0.75", points.get(5).slug());
    assertEquals("scale=0.75,crop=0.9", points.get(5).pipeline().spec());
    assertEquals(2.0, points.get(9).strength());
    assertThrows(PerturbationSpecException.class, () -> sweep.points(PerturbationPipeline.parse("jpeg=90")));
    assertSweepMessage("give one kind per --sweep", "jpeg=95,blur=1");
    assertSweepMessage("--sweep jpeg is given twice", "jpeg=95", "jpeg=50");
    assertSweepMessage("is not kind=v1,v2", "95,85");
    assertSweepMessage("strength 95 is listed twice", "jpeg=95,95");
    assertSweepMessage("unknown perturbation 'gamma'", "gamma=1,2");
  }

  @Test
  void seedsArePerImageAndStable() {
    assertEquals(Seeds.forImage(7, "a/b.png"), Seeds.forImage(7, "a/b.png"));
    assertFalse(Seeds.forImage(7, "a/b.png") == Seeds.forImage(7, "a/c.png"));
    assertFalse(Seeds.forImage(7, "a/b.png") == Seeds.forImage(8, "a/b.png"));
    // Pinned so a change of the derivation (which would change every derivative dataset) is noticed.
    assertEquals(Seeds.forImage(0, ""), Seeds.mix(0 ^ Seeds.mix(0xcbf29ce484222325L)));
  }

  private static void assertMessage(String expectedPart, String spec) {
    PerturbationSpecException e = assertThrows(PerturbationSpecException.class, () -> PerturbationPipeline.parse(spec));
    assertTrue(e.getMessage().contains(expectedPart), "message for '" + spec + "': " + e.getMessage());
  }

  private static void assertSweepMessage(String expectedPart, String... options) {
    PerturbationSpecException e = assertThrows(PerturbationSpecException.class, () -> Sweep.parse(List.of(options)));
    assertTrue(e.getMessage().contains(expectedPart), "message: " + e.getMessage());
  }
}
