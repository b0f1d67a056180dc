package io.semspai.stream;

import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.ModelBundle;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where release archives live: a local or shared folder. A release names its archive by URI ({@code file:///…}, or a
 * path relative to the store); fetching verifies the archive's sha256 before anything is unpacked.
 */
public final class ModelStore {
  private final Path root;
  private final Path work;

  public ModelStore(Path root, Path work) {
    this.root = root;
    this.work = work;
  }

  public Path root() {
    return root;
  }

  /** Resolves, verifies and unpacks a release archive into a fresh folder under the work folder. */
  public ModelBundle fetch(String artifactUri, String expectedSha256, String version) throws IOException {
    Path archive = resolve(artifactUri);
    if (!Files.isRegularFile(archive)) {
      throw new IOException("release " + version + ": archive " + archive + " does not exist");
    }
    String actual = sha256(archive);
    if (!actual.equalsIgnoreCase(expectedSha256)) {
      throw new IOException("release " + version + ": archive " + archive + " has sha256 " + actual
          + " but the release says " + expectedSha256 + " (corrupt or replaced archive)");
    }
    Files.createDirectories(work);
    Path dir = work.resolve("release-" + version.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + actual.substring(0, 12));
    if (Files.isDirectory(dir)) {
      return ModelBundle.open(dir);
    }
    return BundleArchive.unpack(archive, dir);
  }

  Path resolve(String artifactUri) {
    if (artifactUri.startsWith("file:")) {
      return Path.of(URI.create(artifactUri));
    }
    Path p = Path.of(artifactUri);
    return p.isAbsolute() ? p : root.resolve(p);
  }

  public static String sha256(Path file) throws IOException {
    return io.semspai.bundle.Sha256.of(file);
  }
}
