package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** file:// sources: only below the roots, with symlinks resolved before the check. */
class FileSourceTest {
  @TempDir
  Path tmp;

  private Path root;
  private Path outside;
  private byte[] png;

  @BeforeEach
  void layout() throws IOException {
    png = CorpusTest.bytes("base.png");
    root = Files.createDirectories(tmp.resolve("images"));
    outside = Files.createDirectories(tmp.resolve("secrets"));
    Files.write(root.resolve("cat.png"), png);
    Files.write(outside.resolve("key.png"), png);
    Files.createDirectories(root.resolve("sub"));
    Files.createSymbolicLink(root.resolve("escape.png"), outside.resolve("key.png"));
    Files.createSymbolicLink(root.resolve("sub/alias.png"), root.resolve("cat.png"));
    Files.createSymbolicLink(root.resolve("outdir"), outside);
    Files.write(root.resolve("empty.png"), new byte[0]);
  }

  private ImageIntake intake(Path... roots) {
    return new ImageIntake(IntakePolicy.builder().fileRoots(List.of(roots)).maxBytes(png.length + 10).build());
  }

  private static IntakeReason reason(ImageIntake intake, ImageSource source) {
    return assertThrows(IntakeException.class, () -> intake.fetch(source)).reason();
  }

  @Test
  void filesBelowARootAreRead() throws Exception {
    try (ImageIntake intake = intake(root)) {
      FetchedImage f = intake.fetch(ImageSource.file(root.resolve("cat.png")));
      assertArrayEquals(png, f.bytes());
      assertArrayEquals(png, intake.fetch(ImageSource.file(root.resolve("sub/alias.png"))).bytes());
      LoadedImage loaded = intake.load(ImageSource.parse(root.resolve("cat.png").toUri().toString()));
      assertEquals(40, loaded.image().width());
    }
  }

  @Test
  void everythingElseIsRefused() throws Exception {
    try (ImageIntake intake = intake(root)) {
      assertEquals(IntakeReason.PATH_NOT_ALLOWED, reason(intake, ImageSource.file(outside.resolve("key.png"))));
      assertEquals(IntakeReason.PATH_NOT_ALLOWED, reason(intake, ImageSource.file(root.resolve("escape.png"))));
      assertEquals(IntakeReason.PATH_NOT_ALLOWED, reason(intake, ImageSource.file(root.resolve("outdir/key.png"))));
      assertEquals(IntakeReason.PATH_NOT_ALLOWED,
          reason(intake, ImageSource.parse("file://" + root + "/../secrets/key.png")));
      assertEquals(IntakeReason.FILE_NOT_FOUND, reason(intake, ImageSource.file(root.resolve("missing.png"))));
      assertEquals(IntakeReason.FILE_NOT_FOUND, reason(intake, ImageSource.file(root.resolve("sub"))));
      assertEquals(IntakeReason.EMPTY, reason(intake, ImageSource.file(root.resolve("empty.png"))));
      assertEquals(IntakeReason.BAD_URI, reason(intake, ImageSource.parse("file://otherhost" + root + "/cat.png")));
    }
    Files.write(root.resolve("big.png"), new byte[png.length + 11]);
    try (ImageIntake intake = intake(root)) {
      IntakeException e = assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.file(root.resolve("big.png"))));
      assertEquals(IntakeReason.TOO_LARGE, e.reason());
    }
    try (ImageIntake intake = new ImageIntake(IntakePolicy.defaults())) {
      IntakeException e = assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.file(root.resolve("cat.png"))));
      assertEquals(IntakeReason.PATH_NOT_ALLOWED, e.reason());
      assertTrue(e.getMessage().contains("intake.file-roots"), e.getMessage());
    }
  }

  @Test
  void devicesAreNotRegularFiles() {
    Path zero = Path.of("/dev/zero");
    if (!Files.exists(zero)) {
      return;
    }
    try (ImageIntake intake = intake(Path.of("/dev"))) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.file(zero)));
      assertEquals(IntakeReason.FILE_NOT_FOUND, e.reason());
      assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }
  }

  @Test
  void aSymlinkedRootIsResolvedToo() throws Exception {
    Path linkRoot = Files.createSymbolicLink(tmp.resolve("link-root"), root);
    try (ImageIntake intake = intake(linkRoot)) {
      assertArrayEquals(png, intake.fetch(ImageSource.file(linkRoot.resolve("cat.png"))).bytes());
      assertEquals(IntakeReason.PATH_NOT_ALLOWED, reason(intake, ImageSource.file(linkRoot.resolve("escape.png"))));
    }
  }
}
