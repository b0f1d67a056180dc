package io.semspai.image;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Reads {@code file://} sources, only below the configured roots. The check runs twice: on the path as written
 * (so nothing outside the roots is even probed) and on its real path with every symlink resolved (so a link inside a
 * root cannot lead outside it). The file opened is the real path, without following links again.
 */
final class FileFetcher {
  private final IntakePolicy policy;

  FileFetcher(IntakePolicy policy) {
    this.policy = policy;
  }

  FetchedImage fetch(URI uri, String label, long startNanos) throws IntakeException {
    Path path = toPath(uri, label);
    List<Path> roots = policy.fileRoots();
    if (roots.isEmpty()) {
      throw IntakeReason.PATH_NOT_ALLOWED.exception(label, "file:// sources are disabled: no roots are configured");
    }
    if (roots.stream().noneMatch(path::startsWith)) {
      throw IntakeReason.PATH_NOT_ALLOWED.exception(label, path + " is outside the roots " + roots);
    }
    Path real;
    try {
      real = path.toRealPath();
    } catch (NoSuchFileException e) {
      throw IntakeReason.FILE_NOT_FOUND.exception(label, "no such file " + path);
    } catch (IOException e) {
      throw IntakeReason.READ_FAILED.exception(e, label, path, e.toString());
    }
    if (!insideRealRoot(real)) {
      throw IntakeReason.PATH_NOT_ALLOWED.exception(label,
          path + " leads through a symlink to " + real + ", outside the roots " + roots);
    }
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      throw IntakeReason.READ_FAILED.exception(e, label, real, e.toString());
    }
    if (!attrs.isRegularFile()) {
      // Devices, FIFOs and folders: /dev/zero would never end and a FIFO would block.
      throw IntakeReason.FILE_NOT_FOUND.exception(label, real + " is not a regular file");
    }
    if (attrs.size() > policy.maxBytes()) {
      throw IntakeReason.TOO_LARGE.exception(label, "the file (" + attrs.size() + " bytes)", policy.maxBytes());
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      // The file may have grown since stat: read at most one byte past the cap.
      bytes = in.readNBytes((int) Math.min(policy.maxBytes() + 1, Integer.MAX_VALUE - 8));
    } catch (AccessDeniedException e) {
      throw IntakeReason.READ_FAILED.exception(e, label, real, "permission denied");
    } catch (IOException e) {
      throw IntakeReason.READ_FAILED.exception(e, label, real, e.toString());
    }
    if (bytes.length > policy.maxBytes()) {
      throw IntakeReason.TOO_LARGE.exception(label, "the file", policy.maxBytes());
    }
    if (bytes.length == 0) {
      throw IntakeReason.EMPTY.exception(label);
    }
    return new FetchedImage(label, bytes, FetchedImage.sha256(bytes), Optional.empty(), label, 0,
        Duration.ofNanos(System.nanoTime() - startNanos));
  }

  private boolean insideRealRoot(Path real) {
    for (Path root : policy.fileRoots()) {
      try {
        if (real.startsWith(root.toRealPath())) {
          return true;
        }
      } catch (IOException e) {
        // a root that does not exist (yet) holds nothing
      }
    }
    return false;
  }

  private static Path toPath(URI uri, String label) throws IntakeException {
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw IntakeReason.BAD_URI.exception(label, "file URIs take no query or fragment");
    }
    String authority = uri.getRawAuthority();
    if (authority != null && !authority.isEmpty() && !authority.equalsIgnoreCase("localhost")) {
      throw IntakeReason.BAD_URI.exception(label, "file URIs must not name a host");
    }
    String p = uri.getPath();
    if (p == null || !p.startsWith("/")) {
      throw IntakeReason.BAD_URI.exception(label, "file URIs need an absolute path");
    }
    if (p.indexOf('\0') >= 0) {
      throw IntakeReason.BAD_URI.exception(label, "NUL in path");
    }
    try {
      return Path.of(p).normalize();
    } catch (InvalidPathException e) {
      throw IntakeReason.BAD_URI.exception(label, e.getReason());
    }
  }
}
