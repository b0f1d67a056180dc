package io.semspai.spai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.bundle.Safetensors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpaiBundleTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path shared;
  @TempDir Path tmp;
  private static Path pristine;

  @BeforeAll
  static void writeBundle() throws IOException {
    pristine = SpaiBundles.writeRandom(shared.resolve("tiny"), SpaiConfig.tiny(), 1, "spai-tiny", "0.1.0");
  }

  private Path copy() throws IOException {
    Path dir = tmp.resolve("copy");
    Files.createDirectories(dir);
    try (Stream<Path> s = Files.list(pristine)) {
      for (Path p : s.toList()) {
        Files.copy(p, dir.resolve(p.getFileName()));
      }
    }
    return dir;
  }

  private static String refusal(Path dir) {
    BundleException e = assertThrows(BundleException.class, () -> SpaiModel.load(dir).close());
    return e.getMessage();
  }

  @Test
  void manifestRecordsEverything() throws IOException {
    ModelBundle b = ModelBundle.open(pristine);
    BundleManifest m = b.manifest();
    assertEquals("spai-tiny", m.name());
    assertEquals("0.1.0", m.version());
    assertEquals(1, m.format());
    BundleManifest.Component c = m.component("spai");
    assertEquals("spai.safetensors", c.file());
    assertEquals(Files.size(pristine.resolve("spai.safetensors")), c.bytes());
    assertEquals(Safetensors.sha256Hex(pristine.resolve("spai.safetensors")), c.sha256());
    assertEquals("random-init, seed 1", c.provenance().source());
    assertEquals(1L, c.provenance().seed());
    assertEquals("native", c.setting("input_policy", null));
    assertEquals(SpaiConfig.tiny(), JSON.treeToValue(c.architecture(), SpaiConfig.class));
    b.verify();
    // no temporary directory is left next to the bundle
    try (Stream<Path> s = Files.list(shared)) {
      assertEquals(List.of("tiny"), s.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void weightFileHoldsUpstreamKeysAndTheInt64Mask() throws IOException {
    Map<String, Safetensors.TensorInfo> t = Safetensors.readHeader(pristine.resolve("spai.safetensors")).byName();
    assertEquals(Safetensors.DType.I64, t.get("mfvit.frequencies_mask").dtype());
    for (String key : List.of("mfvit.vit.patch_embed.proj.weight", "mfvit.vit.cls_token", "mfvit.vit.pos_embed",
        "mfvit.vit.blocks.3.attn.qkv.weight", "mfvit.vit.blocks.0.attn.q_bias", "mfvit.vit.blocks.0.attn.v_bias",
        "mfvit.vit.blocks.0.mlp.fc2.bias",
        "mfvit.features_processor.patch_projector.projectors.3.projector.4.weight",
        "mfvit.features_processor.patch_projector.projectors.0.norm1.weight",
        "mfvit.features_processor.original_features_processor.alpha",
        "mfvit.features_processor.original_features_processor.proj1.projector.1.weight",
        "mfvit.features_processor.original_features_processor.proj2.norm2.bias",
        "patch_aggregator", "to_kv.weight", "to_out.0.weight", "norm.weight", "cls_head.head.6.bias")) {
      assertTrue(t.containsKey(key), key);
    }
    assertFalse(t.containsKey("mfvit.vit.blocks.0.attn.qkv.bias"), "k has no bias; qkv.bias must not exist");
    assertEquals("(4, 1, 12)", t.get("patch_aggregator").shapeString());
    assertEquals("(96, 88)", t.get("to_kv.weight").shapeString());
    assertEquals("(1, 264)", t.get("cls_head.head.6.weight").shapeString());
  }

  @Test
  void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
    Path again = SpaiBundles.writeRandom(tmp.resolve("again"), SpaiConfig.tiny(), 1, "spai-tiny", "0.1.0");
    Path other = SpaiBundles.writeRandom(tmp.resolve("other"), SpaiConfig.tiny(), 2, "spai-tiny", "0.1.0");
    String sha = ModelBundle.open(pristine).manifest().component("spai").sha256();
    assertEquals(sha, ModelBundle.open(again).manifest().component("spai").sha256());
    assertNotEquals(sha, ModelBundle.open(other).manifest().component("spai").sha256());
  }

  @Test
  void flippedByteIsASha256Mismatch() throws IOException {
    Path dir = copy();
    Path f = dir.resolve("spai.safetensors");
    String expected = ModelBundle.open(dir).manifest().component("spai").sha256();
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      long pos = ch.size() - 1000;
      ch.read(b, pos);
      b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
      ch.write(b, pos);
    }
    String actual = Safetensors.sha256Hex(f);
    assertEquals("bundle " + dir.toAbsolutePath() + ": component spai: sha256 mismatch (expected " + expected
        + ", got " + actual + ")", refusal(dir));
  }

  @Test
  void damagedHeaderIsStillReportedAsASha256Mismatch() throws IOException {
    Path dir = copy();
    Path f = dir.resolve("spai.safetensors");
    String expected = ModelBundle.open(dir).manifest().component("spai").sha256();
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 100); // inside the JSON header
    }
    assertEquals("bundle " + dir.toAbsolutePath() + ": component spai: sha256 mismatch (expected " + expected
        + ", got " + Safetensors.sha256Hex(f) + ")", refusal(dir));
  }

  @Test
  void truncatedWeightsAreNamed() throws IOException {
    Path dir = copy();
    Path f = dir.resolve("spai.safetensors");
    long size = Files.size(f);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.truncate(size / 2);
    }
    assertEquals("bundle " + dir.toAbsolutePath() + ": component spai: truncated: spai.safetensors has "
        + (size / 2) + " bytes, the manifest says " + size, refusal(dir));
  }

  @Test
  void missingWeightFileAndMissingManifestAreNamed() throws IOException {
    Path dir = copy();
    Files.delete(dir.resolve("spai.safetensors"));
    assertEquals("bundle " + dir.toAbsolutePath() + ": component spai: file spai.safetensors is missing",
        refusal(dir));
    Files.delete(dir.resolve("manifest.json"));
    assertEquals("bundle " + dir.toAbsolutePath() + ": manifest.json is missing", refusal(dir));
  }

  @Test
  void brokenManifestIsNamed() throws IOException {
    Path dir = copy();
    Files.writeString(dir.resolve("manifest.json"), "{\"format\": 1, \"name\": ");
    assertTrue(refusal(dir).startsWith("bundle " + dir.toAbsolutePath() + ": manifest.json is not a valid manifest"));
  }

  @Test
  void architectureThatDisagreesWithTheWeightsListsEveryMismatch() throws IOException {
    Path dir = copy();
    ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    ObjectNode fre = (ObjectNode) m.at("/components/spai/architecture/fre");
    fre.put("projection_dim", 32);
    JSON.writeValue(dir.resolve("manifest.json").toFile(), m);
    String msg = refusal(dir);
    assertTrue(msg.startsWith("bundle " + dir.toAbsolutePath() + ": component spai: weights do not match the "
        + "architecture: "), msg);
    assertTrue(msg.contains("wrong shapes [mfvit.features_processor.patch_projector.projectors.0.projector.1.weight"
        + " is (64, 32), expected (32, 32)"), msg);
  }

  @Test
  void missingAndUnexpectedKeysAreListedAndUpstreamsUnusedKeysIgnored() throws IOException {
    Path dir = copy();
    Path f = dir.resolve("spai.safetensors");
    // rewrite the weights without norm.bias, with an unknown key and with two keys upstream never uses
    Map<String, float[]> all = Safetensors.readAllFloats(f);
    Map<String, Safetensors.TensorInfo> infos = Safetensors.readHeader(f).byName();
    List<Safetensors.TensorSpec> specs = new ArrayList<>();
    for (Safetensors.TensorInfo i : infos.values()) {
      if (!i.name().equals("norm.bias")) {
        specs.add(new Safetensors.TensorSpec(i.name(), i.dtype(), i.shape()));
      }
    }
    specs.add(new Safetensors.TensorSpec("mfvit.vit.head.weight", Safetensors.DType.F32, new long[] {2, 128}));
    specs.add(new Safetensors.TensorSpec("mfvit.vit.fc_norm.weight", Safetensors.DType.F32, new long[] {32}));
    specs.add(new Safetensors.TensorSpec("extra.thing", Safetensors.DType.F32, new long[] {3}));
    Path g = dir.resolve("rewritten.safetensors");
    try (Safetensors.Writer w = new Safetensors.Writer(g, specs, null)) {
      for (Safetensors.TensorSpec s : specs) {
        if (s.dtype() == Safetensors.DType.I64) {
          long[] v = new long[all.get(s.name()).length];
          for (int i = 0; i < v.length; i++) {
            v[i] = (long) all.get(s.name())[i];
          }
          w.writeLongs(s.name(), v);
        } else {
          long n = 1;
          for (long d : s.shape()) {
            n *= d;
          }
          w.writeFloats(s.name(), all.getOrDefault(s.name(), new float[(int) n]));
        }
      }
    }
    Files.move(g, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    ObjectNode c = (ObjectNode) m.at("/components/spai");
    c.put("bytes", Files.size(f));
    c.put("sha256", Safetensors.sha256Hex(f));
    JSON.writeValue(dir.resolve("manifest.json").toFile(), m);
    assertEquals("bundle " + dir.toAbsolutePath() + ": component spai: weights do not match the architecture: "
        + "1 missing keys [norm.bias]; 1 unexpected keys [extra.thing]", refusal(dir));
  }

  @Test
  void unknownInputPolicyIsRefused() throws IOException {
    Path dir = copy();
    ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    ((ObjectNode) m.at("/components/spai/settings")).put("input_policy", "crop:1024");
    JSON.writeValue(dir.resolve("manifest.json").toFile(), m);
    assertTrue(refusal(dir).startsWith("bundle " + dir.toAbsolutePath() + ": component spai: unknown SPAI input "
        + "policy 'crop:1024'"), refusal(dir));
  }

  @Test
  void unknownTopLevelFieldsSurviveARoundTrip() throws IOException {
    Path dir = copy();
    ObjectNode m = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    m.putObject("thresholds").putObject("balanced").put("t_low", 0.5).put("t_high", 0.5);
    JSON.writeValue(dir.resolve("manifest.json").toFile(), m);
    BundleManifest read = ModelBundle.open(dir).manifest();
    assertTrue(read.toJson().contains("\"t_high\" : 0.5"), read.toJson());
  }

  @Test
  void existingTargetIsNotOverwritten() throws IOException {
    Path dir = copy();
    assertThrows(FileAlreadyExistsException.class,
        () -> SpaiBundles.writeRandom(dir, SpaiConfig.tiny(), 1, "x", "0.1.0"));
    assertTrue(Files.exists(dir.resolve("manifest.json")));
  }

  @Test
  void archiveRoundTripsAndIsVerifiedOnUnpack() throws IOException {
    Path zip = tmp.resolve("tiny.zip");
    BundleArchive.pack(pristine, zip);
    ModelBundle back = BundleArchive.unpack(zip, tmp.resolve("unpacked"));
    assertEquals(ModelBundle.open(pristine).manifest().component("spai").sha256(),
        back.manifest().component("spai").sha256());
    back.verify();

    // an archive whose weights were altered is refused and leaves nothing behind
    Path bad = tmp.resolve("bad.zip");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(bad))) {
      z.putNextEntry(new ZipEntry("manifest.json"));
      z.write(Files.readAllBytes(pristine.resolve("manifest.json")));
      z.putNextEntry(new ZipEntry("spai.safetensors"));
      byte[] w = Files.readAllBytes(pristine.resolve("spai.safetensors"));
      w[w.length - 1] ^= 1;
      z.write(w);
    }
    BundleException e = assertThrows(BundleException.class, () -> BundleArchive.unpack(bad, tmp.resolve("no")));
    assertTrue(e.getMessage().startsWith("bundle " + bad.toAbsolutePath() + ": component spai: sha256 mismatch"),
        e.getMessage());
    assertFalse(Files.exists(tmp.resolve("no")));
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".partial-")));
    }

    // zip-slip
    Path slip = tmp.resolve("slip.zip");
    try (OutputStream o = Files.newOutputStream(slip); ZipOutputStream z = new ZipOutputStream(o)) {
      z.putNextEntry(new ZipEntry("../evil"));
      z.write(1);
    }
    e = assertThrows(BundleException.class, () -> BundleArchive.unpack(slip, tmp.resolve("no")));
    assertTrue(e.getMessage().endsWith("archive entry '../evil' is not a plain, unique file name"), e.getMessage());
  }
}
