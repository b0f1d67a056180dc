package io.semspai.image;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The bytes of one image as fetched, before decoding.
 *
 * @param source the source's label (URIs without their query)
 * @param bytes the body, Content-Encoding already undone; callers must not modify it
 * @param sha256 lower-case hex SHA-256 of {@code bytes}: a stable key for caching and deduplication
 * @param contentType the server's Content-Type, when there was a server
 * @param location where the bytes finally came from (after redirects), redacted like {@code source}
 * @param redirects redirects followed
 * @param elapsed time from the call to the last byte
 */
public record FetchedImage(
    String source,
    byte[] bytes,
    String sha256,
    Optional<String> contentType,
    String location,
    int redirects,
    Duration elapsed) {

  public FetchedImage {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(bytes, "bytes");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(location, "location");
    Objects.requireNonNull(elapsed, "elapsed");
  }

  static String sha256(byte[] bytes) {
    return io.semspai.bundle.Sha256.of(bytes);
  }

  @Override
  public String toString() {
    return "FetchedImage[" + source + ", " + bytes.length + " bytes, sha256=" + sha256 + "]";
  }
}
