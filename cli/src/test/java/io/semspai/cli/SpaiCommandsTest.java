package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.image.ImageDecoder;
import io.semspai.engine.ModelOutput;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiResult;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpaiCommandsTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  static Path bundle;
  static Path images;

  @BeforeAll
  static void setUp() throws IOException {
    bundle = shared.resolve("bundle");
    CliRun r = CliRun.of("model", "init", "--preset", "tiny", "--seed", "3", "--out", bundle.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("wrote " + bundle.toAbsolutePath() + ": semspai-tiny-random-seed3 0.1.0"), r.out());
    images = shared.resolve("imgs");
    Files.createDirectories(images);
    Random rnd = new Random(5);
    int[][] sizes = {{300, 260}, {520, 470}, {224, 224}};
    String[] names = {"b.png", "a.png", "c, odd.png"};
    for (int i = 0; i < sizes.length; i++) {
      BufferedImage im = new BufferedImage(sizes[i][0], sizes[i][1], BufferedImage.TYPE_3BYTE_BGR);
      for (int y = 0; y < sizes[i][1]; y++) {
        for (int x = 0; x < sizes[i][0]; x++) {
          im.setRGB(x, y, rnd.nextInt(1 << 24));
        }
      }
      ImageIO.write(im, "png", images.resolve(names[i]).toFile());
    }
    Files.writeString(images.resolve("readme.txt"), "not an image");
  }

  @Test
  void infoPrintsTheManifestAndVerifies() {
    CliRun r = CliRun.of("model", "info", bundle.toString(), "--verify");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("\"name\" : \"semspai-tiny-random-seed3\""), r.out());
    assertTrue(r.out().contains("\"source\" : \"random-init, seed 3\""), r.out());
    assertTrue(r.out().contains("\"embed_dim\" : 32"), r.out());
    assertTrue(r.out().contains("verified: spai (spai.safetensors, sha256 ok)"), r.out());
  }

  @Test
  void inferWritesOneSortedRowPerImageWithTheModelsScores() throws IOException {
    Path out = tmp.resolve("out");
    CliRun r = CliRun.of("infer", "--model", bundle.toString(), "--mode", "spectral", "--input", images.toString(),
        "--output", out.toString(), "--tag", "spai");
    assertEquals(0, r.exit(), r.err());
    List<String> lines = Files.readAllLines(out.resolve("imgs.csv"));
    // The folder is listed into upstream's layout first (image, split), then scored.
    assertEquals("image,split,spai,spai_logit", lines.get(0));
    assertEquals(4, lines.size(), lines.toString());
    assertTrue(lines.get(1).startsWith("a.png,test,"));
    assertTrue(lines.get(2).startsWith("b.png,test,"));
    assertTrue(lines.get(3).startsWith("\"c, odd.png\",test,"), lines.get(3));
    try (SpaiModel m = SpaiModel.load(bundle)) {
      SpaiResult a = m.score(ImageDecoder.decode(Files.readAllBytes(images.resolve("a.png"))));
      String[] cells = lines.get(1).split(",");
      // The engine batches patches of several images; results equal scoring one image alone within 1e-4.
      assertEquals(a.score(), Double.parseDouble(cells[2]), 1e-4);
      assertEquals(a.logit(), Double.parseDouble(cells[3]), 1e-4);
    }
  }

  @Test
  void defaultTagIsSemspai() throws IOException {
    Path out = tmp.resolve("out2");
    CliRun r = CliRun.of("infer", "--model", bundle.toString(), "--mode", "spectral", "--input", images.toString(),
        "--output", out.toString());
    assertEquals(0, r.exit(), r.err());
    assertEquals("image,split,semspai,semspai_logit", Files.readAllLines(out.resolve("imgs.csv")).get(0));
  }

  @Test
  void fusionIsTheDefaultModeAndWritesTheFusedScoreBesideSpais() throws IOException {
    Path out = tmp.resolve("fused");
    CliRun r = CliRun.of("infer", "--model", bundle.toString(), "--input", images.toString(), "--output", out.toString(),
        "--tag", "sem");
    assertEquals(0, r.exit(), r.err());
    List<String> lines = Files.readAllLines(out.resolve("imgs.csv"));
    assertEquals("image,split,sem,sem_logit,sem_spectral", lines.get(0));
    assertEquals(4, lines.size(), lines.toString());
    try (SemSpaiModel m = SemSpaiModel.load(bundle)) {
      ModelOutput a = m.score(ImageDecoder.decode(Files.readAllBytes(images.resolve("a.png"))));
      String[] cells = lines.get(1).split(",");
      assertEquals("a.png", cells[0]);
      assertEquals(a.fusedScore(), Double.parseDouble(cells[2]), 1e-4);
      assertEquals(a.fusedLogit(), Double.parseDouble(cells[3]), 1e-4);
      assertEquals(a.spectralScore(), Double.parseDouble(cells[4]), 1e-4);
    }
    assertTrue(r.out().contains("3 images, 3 scored, 0 failed"), r.out());
  }

  @Test
  void initRecordsTheInputPolicyAndRefusesABadOne() {
    Path b = tmp.resolve("resized");
    CliRun r = CliRun.of("model", "init", "--preset", "tiny", "--out", b.toString(), "--input-policy", "resize:448");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("  component convnext convnext.safetensors ("), r.out());
    assertTrue(r.out().contains("  component head head.safetensors ("), r.out());
    assertTrue(r.out().contains("mode fusion, SPAI input resize:448, thresholds uncalibrated (0.5/0.5)"), r.out());
    r = CliRun.of("model", "info", b.toString());
    assertTrue(r.out().contains("\"input_policy\" : \"resize:448\""), r.out());
    assertTrue(r.out().contains("\"calibrated\" : false"), r.out());
    r = CliRun.of("model", "init", "--preset", "tiny", "--out", tmp.resolve("bad").toString(), "--input-policy", "zoom");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("unknown SPAI input policy 'zoom'"), r.err());
    assertFalse(Files.exists(tmp.resolve("bad")));
  }

  @Test
  void fusionModeNamesWhatIsMissing() throws IOException {
    Path spaiOnly = io.semspai.spai.SpaiBundles.writeRandom(tmp.resolve("spai-only"), io.semspai.spai.SpaiConfig
        .tiny(), 3, "spai-only", "0.1.0");
    CliRun r = CliRun.of("infer", "--model", spaiOnly.toString(), "--input", images.toString(), "--output", tmp.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("has no convnext and head components (it has [spai]), so it cannot run in fusion "
        + "mode; use spectral mode (--mode spectral)"), r.err());
    r = CliRun.of("infer", "--model", spaiOnly.toString(), "--mode", "spectral", "--input", images.toString(),
        "--output", tmp.resolve("s").toString());
    assertEquals(0, r.exit(), r.err());
    r = CliRun.of("infer", "--model", bundle.toString(), "--mode", "magic", "--input", images.toString(),
        "--output", tmp.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("error: --mode must be fusion or spectral, got 'magic'"), r.err());
  }

  @Test
  void badFlagsFailWithAMessage() {
    CliRun r = CliRun.of("infer", "--model", bundle.toString(), "--input", tmp.resolve("nope").toString(), "--output",
        tmp.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("error: --input " + tmp.resolve("nope") + " does not exist"), r.err());
    r = CliRun.of("infer", "--model", bundle.toString(), "--input", images.toString(), "--output", tmp.toString(),
        "--tag", "a,b");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("--tag 'a,b' must start with a letter"), r.err());
    r = CliRun.of("model", "init", "--preset", "huge", "--out", tmp.resolve("x").toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("Invalid value for option '--preset'"), r.err());
    r = CliRun.of("model", "init", "--preset", "tiny", "--out", bundle.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("already exists"), r.err());
    r = CliRun.of("model", "init", "--preset", "tiny", "--out", tmp.resolve("v").toString(), "--model-version", "1.0");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("version '1.0' is not a semantic version"), r.err());
    assertFalse(Files.exists(tmp.resolve("v")));
  }

  @Test
  void corruptedBundleIsRefusedNamingComponentAndReason() throws IOException {
    Path dir = tmp.resolve("corrupt");
    Files.createDirectories(dir);
    for (String f : List.of("manifest.json", "spai.safetensors", "convnext.safetensors", "head.safetensors")) {
      Files.copy(bundle.resolve(f), dir.resolve(f));
    }
    try (FileChannel ch = FileChannel.open(dir.resolve("spai.safetensors"), StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 5000);
    }
    CliRun r = CliRun.of("infer", "--model", dir.toString(), "--input", images.toString(), "--output",
        tmp.resolve("o").toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("error: bundle " + dir.toAbsolutePath() + ": component spai: sha256 mismatch "
        + "(expected "), r.err());
    assertFalse(Files.exists(tmp.resolve("o")), "no output for a refused bundle");
    r = CliRun.of("model", "info", dir.toString(), "--verify");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("component spai: sha256 mismatch"), r.err());
  }

  @Test
  void packUnpackRoundTrip() {
    Path zip = tmp.resolve("b.zip");
    CliRun r = CliRun.of("model", "pack", bundle.toString(), "--out", zip.toString());
    assertEquals(0, r.exit(), r.err());
    r = CliRun.of("model", "info", zip.toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("\"name\" : \"semspai-tiny-random-seed3\""), r.out());
    r = CliRun.of("model", "unpack", zip.toString(), "--out", tmp.resolve("u").toString());
    assertEquals(0, r.exit(), r.err());
    assertTrue(Files.exists(tmp.resolve("u").resolve("spai.safetensors")));
    r = CliRun.of("infer", "--model", zip.toString(), "--input", images.toString(), "--output", tmp.toString());
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("is a file; unpack an archive first"), r.err());
  }
}
