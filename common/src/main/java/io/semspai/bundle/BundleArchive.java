package io.semspai.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * The single-file form of a bundle, for releases: a zip of the bundle directory's files, stored uncompressed
 * (weights do not compress, and stored entries stay readable at their offsets). Packing verifies the bundle
 * first; unpacking extracts to a temporary sibling, verifies every checksum, and only then renames into place.
 */
public final class BundleArchive {
  private BundleArchive() {}

  /** Writes {@code archive} from the bundle at {@code bundleDir} (verified first); refuses to overwrite. */
  public static void pack(Path bundleDir, Path archive) throws IOException {
    ModelBundle bundle = ModelBundle.open(bundleDir);
    bundle.verify();
    Path target = archive.toAbsolutePath().normalize();
    if (Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString());
    }
    List<String> names = new ArrayList<>();
    names.add(BundleManifest.FILE_NAME);
    bundle.manifest().components().values().forEach(c -> names.add(c.file()));
    Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".partial-", "");
    boolean done = false;
    try {
      try (OutputStream fileOut = Files.newOutputStream(temp);
          ZipOutputStream zip = new ZipOutputStream(new java.io.BufferedOutputStream(fileOut, 1 << 20))) {
        for (String name : names) {
          Path file = bundle.dir().resolve(name);
          ZipEntry e = new ZipEntry(name);
          e.setMethod(ZipEntry.STORED);
          long size = Files.size(file);
          e.setSize(size);
          e.setCompressedSize(size);
          e.setCrc(crc(file));
          zip.putNextEntry(e);
          Files.copy(file, zip);
          zip.closeEntry();
        }
      }
      try (var ch = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      done = true;
    } finally {
      if (!done) {
        Files.deleteIfExists(temp);
      }
    }
  }

  /** Extracts {@code archive} into the new directory {@code bundleDir}, verified; returns the opened bundle. */
  public static ModelBundle unpack(Path archive, Path bundleDir) throws IOException {
    Path target = bundleDir.toAbsolutePath().normalize();
    if (Files.exists(target) && !BundleWriter.isEmptyDirectory(target)) {
      throw new FileAlreadyExistsException(target.toString(), null, "exists and is not an empty directory");
    }
    Files.createDirectories(target.getParent());
    Path temp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".partial-");
    BundleWriter.readableByAll(temp);
    boolean done = false;
    try {
      try (ZipFile zip = new ZipFile(archive.toFile())) {
        Set<String> seen = new HashSet<>();
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
          ZipEntry e = en.nextElement();
          String name = e.getName();
          // plain names only: no directories, no "../", no absolute paths (zip-slip)
          if (e.isDirectory() || !ModelBundle.FILE_NAME.matcher(name).matches() || !seen.add(name)) {
            throw new BundleException(archive.toAbsolutePath(), null, "archive entry '" + name
                + "' is not a plain, unique file name");
          }
          try (InputStream in = zip.getInputStream(e)) {
            Files.copy(in, temp.resolve(name));
          }
        }
      } catch (ZipException e) {
        throw new BundleException(archive.toAbsolutePath(), null, "not a bundle archive: " + e.getMessage(), e);
      }
      ModelBundle.open(temp).verify();
      if (Files.exists(target)) {
        Files.delete(target);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      done = true;
      return ModelBundle.open(target);
    } catch (BundleException e) {
      // report the archive, not the temporary directory it was checked in
      if (e.bundle() != null && e.bundle().equals(temp.toAbsolutePath().normalize())) {
        throw new BundleException(archive.toAbsolutePath(), e.component(), e.reason(), e);
      }
      throw e;
    } finally {
      if (!done) {
        BundleWriter.deleteTree(temp);
      }
    }
  }

  private static long crc(Path file) throws IOException {
    CRC32 crc = new CRC32();
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        crc.update(buf, 0, n);
      }
    }
    return crc.getValue();
  }
}
