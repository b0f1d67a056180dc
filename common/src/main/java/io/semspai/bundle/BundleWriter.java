package io.semspai.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a bundle so that a half-written one never exists under its final name: everything goes into a hidden
 * temporary sibling directory, and {@link #commit()} writes the manifest last, syncs, and renames the directory
 * into place in one atomic step. {@link #close()} without a commit deletes the temporary directory.
 */
public final class BundleWriter implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final BundleManifest manifest;
  private boolean committed;

  /** Starts a bundle at {@code target}, which must not exist (or be an empty directory). */
  public BundleWriter(Path target, String name, String version) throws IOException {
    this.target = target.toAbsolutePath().normalize();
    if (Files.exists(this.target) && !isEmptyDirectory(this.target)) {
      throw new FileAlreadyExistsException(this.target.toString(), null, "exists and is not an empty directory");
    }
    Path parent = this.target.getParent();
    Files.createDirectories(parent);
    this.temp = Files.createTempDirectory(parent, "." + this.target.getFileName() + ".partial-");
    readableByAll(temp); // createTempDirectory makes it owner-only; a bundle is shared read-only
    this.manifest = new BundleManifest(name, version, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
  }

  public Path target() {
    return target;
  }

  /** Sets a top-level manifest field that a later component type defines (kept verbatim). */
  public void putManifestField(String key, JsonNode value) {
    manifest.other().put(key, value);
  }

  /**
   * Opens the weight file of one component; {@link ComponentWriter#finish()} records its size and sha256 in the
   * manifest.
   */
  public ComponentWriter component(
      String componentName,
      String fileName,
      JsonNode architecture,
      Map<String, String> settings,
      BundleManifest.Provenance provenance,
      List<Safetensors.TensorSpec> tensors,
      Map<String, String> metadata)
      throws IOException {
    if (!ModelBundle.FILE_NAME.matcher(fileName).matches()) {
      throw new IllegalArgumentException("component file name '" + fileName + "' is not a plain file name");
    }
    if (manifest.components().containsKey(componentName)) {
      throw new IllegalArgumentException("component " + componentName + " written twice");
    }
    Safetensors.Writer w = new Safetensors.Writer(temp.resolve(fileName), tensors, metadata);
    return new ComponentWriter(componentName, fileName, architecture, settings, provenance, w);
  }

  /** The weights of one component being written. */
  public final class ComponentWriter implements AutoCloseable {
    private final String componentName;
    private final String fileName;
    private final JsonNode architecture;
    private final Map<String, String> settings;
    private final BundleManifest.Provenance provenance;
    private final Safetensors.Writer writer;
    private boolean finished;

    private ComponentWriter(String componentName, String fileName, JsonNode architecture,
        Map<String, String> settings, BundleManifest.Provenance provenance, Safetensors.Writer writer) {
      this.componentName = componentName;
      this.fileName = fileName;
      this.architecture = architecture;
      this.settings = settings;
      this.provenance = provenance;
      this.writer = writer;
    }

    public Safetensors.Writer tensors() {
      return writer;
    }

    public void finish() throws IOException {
      writer.close();
      long bytes = Files.size(temp.resolve(fileName));
      manifest.putComponent(componentName, new BundleManifest.Component(
          fileName, bytes, writer.sha256Hex(), architecture, settings, provenance));
      finished = true;
    }

    @Override
    public void close() throws IOException {
      if (!finished) {
        writer.close();
      }
    }
  }

  /** Writes the manifest and moves the bundle into place; returns the final directory. */
  public Path commit() throws IOException {
    if (manifest.components().isEmpty()) {
      throw new IllegalStateException("a bundle needs at least one component");
    }
    Path m = temp.resolve(BundleManifest.FILE_NAME);
    Files.writeString(m, manifest.toJson() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    if (Files.exists(target)) {
      Files.delete(target); // checked empty in the constructor; rename(2) would also replace an empty directory
    }
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename " + temp + " to " + target + " atomically: " + e.getMessage(), e);
    }
    committed = true;
    return target;
  }

  public BundleManifest manifest() {
    return manifest;
  }

  @Override
  public void close() throws IOException {
    if (!committed) {
      deleteTree(temp);
    }
  }

  static void readableByAll(Path dir) throws IOException {
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  static boolean isEmptyDirectory(Path p) throws IOException {
    if (!Files.isDirectory(p)) {
      return false;
    }
    try (Stream<Path> s = Files.list(p)) {
      return s.findAny().isEmpty();
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
