package io.semspai.bundle;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An opened model bundle: the manifest has been read and checked for shape (format, fields, plain file names),
 * but weight files are only verified when {@link #verify()} runs or a component is {@link #load loaded}, which
 * checks size and sha256 in the same pass that reads the tensors.
 */
public final class ModelBundle {
  /** Component files must be plain names inside the bundle directory. */
  static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private final Path dir;
  private final BundleManifest manifest;

  private ModelBundle(Path dir, BundleManifest manifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  public static ModelBundle open(Path dir) throws BundleException {
    Path abs = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(abs)) {
      throw new BundleException(abs, null, Files.exists(abs) ? "not a directory" : "does not exist");
    }
    String json;
    try {
      json = Files.readString(abs.resolve(BundleManifest.FILE_NAME), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new BundleException(abs, null, BundleManifest.FILE_NAME + " is missing");
    } catch (IOException e) {
      throw new BundleException(abs, null, "cannot read " + BundleManifest.FILE_NAME + ": " + e.getMessage(), e);
    }
    BundleManifest m;
    try {
      m = BundleManifest.parse(json);
    } catch (IOException e) {
      throw new BundleException(abs, null, BundleManifest.FILE_NAME + " is not a valid manifest: "
          + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
              : e.getMessage()), e);
    }
    validate(abs, m);
    return new ModelBundle(abs, m);
  }

  private static void validate(Path dir, BundleManifest m) throws BundleException {
    if (m.format() != BundleManifest.FORMAT) {
      throw new BundleException(dir, null, "manifest format " + m.format() + " is not supported (this build reads "
          + BundleManifest.FORMAT + ")");
    }
    if (m.name() == null || m.version() == null || m.created() == null) {
      throw new BundleException(dir, null, "manifest lacks name, version or created");
    }
    if (!BundleManifest.SEMVER.matcher(m.version()).matches()) {
      throw new BundleException(dir, null, "manifest version '" + m.version() + "' is not a semantic version");
    }
    if (m.components().isEmpty()) {
      throw new BundleException(dir, null, "manifest lists no components");
    }
    for (Map.Entry<String, BundleManifest.Component> e : m.components().entrySet()) {
      BundleManifest.Component c = e.getValue();
      if (c.file() == null || !FILE_NAME.matcher(c.file()).matches() || c.file().equals(BundleManifest.FILE_NAME)) {
        throw new BundleException(dir, e.getKey(), "file name '" + c.file() + "' is not a plain file name");
      }
      if (c.sha256() == null || !c.sha256().matches("[0-9a-f]{64}")) {
        throw new BundleException(dir, e.getKey(), "sha256 '" + c.sha256() + "' is not 64 lowercase hex digits");
      }
      if (c.architecture() == null) {
        throw new BundleException(dir, e.getKey(), "architecture is missing");
      }
    }
  }

  public Path dir() {
    return dir;
  }

  public BundleManifest manifest() {
    return manifest;
  }

  public BundleManifest.Component component(String name) throws BundleException {
    BundleManifest.Component c = manifest.component(name);
    if (c == null) {
      throw new BundleException(dir, name, "not in this bundle (it has " + manifest.components().keySet() + ")");
    }
    return c;
  }

  /** Checks every component file's presence, size and sha256. */
  public void verify() throws BundleException {
    for (String name : manifest.components().keySet()) {
      verify(name);
    }
  }

  public void verify(String name) throws BundleException {
    BundleManifest.Component c = component(name);
    Path file = dir.resolve(c.file());
    checkSize(name, c, file);
    try {
      String actual = Safetensors.sha256Hex(file);
      if (!actual.equals(c.sha256())) {
        throw new BundleException(dir, name, "sha256 mismatch (expected " + c.sha256() + ", got " + actual + ")");
      }
    } catch (IOException e) {
      if (e instanceof BundleException be) {
        throw be;
      }
      throw new BundleException(dir, name, "cannot read " + c.file() + ": " + e.getMessage(), e);
    }
  }

  private void checkSize(String name, BundleManifest.Component c, Path file) throws BundleException {
    if (!Files.isRegularFile(file)) {
      throw new BundleException(dir, name, "file " + c.file() + " is missing");
    }
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new BundleException(dir, name, "cannot read " + c.file() + ": " + e.getMessage(), e);
    }
    if (size != c.bytes()) {
      throw new BundleException(dir, name, (size < c.bytes() ? "truncated" : "wrong size") + ": " + c.file()
          + " has " + size + " bytes, the manifest says " + c.bytes());
    }
  }

  /** Loads a component's tensors into {@code manager}, verifying size, sha256, keys, shapes and types. */
  public Map<String, NDArray> load(String name, StateDictLoader.Expectation expect, NDManager manager)
      throws BundleException {
    BundleManifest.Component c = component(name);
    Path file = dir.resolve(c.file());
    checkSize(name, c, file);
    try {
      return StateDictLoader.load(file, c.sha256(), expect, manager);
    } catch (StateDictLoader.Refusal e) {
      throw new BundleException(dir, name, e.getMessage(), e);
    }
  }
}
