package io.semspai.image;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Where an image comes from: bytes already in hand, or a {@code http}, {@code https} or {@code file} URI.
 * {@link #parse(String)} refuses every other scheme up front ({@code s3://} is planned, not yet supported).
 */
public sealed interface ImageSource permits ImageSource.Inline, ImageSource.Location {

  /** How the source appears in messages and logs: URIs lose their query, which may hold a signature. */
  String label();

  /** Bytes that arrived with the request (a Kafka record, an upload). */
  record Inline(String label, byte[] bytes) implements ImageSource {
    public Inline {
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(bytes, "bytes");
    }
  }

  /** An {@code http}, {@code https} or {@code file} URI. */
  record Location(URI uri) implements ImageSource {
    public Location {
      Objects.requireNonNull(uri, "uri");
    }

    @Override
    public String label() {
      return redact(uri);
    }
  }

  static ImageSource inline(String label, byte[] bytes) {
    return new Inline(label, bytes);
  }

  /** A local file; it is still subject to {@code intake.file-roots}. */
  static ImageSource file(Path path) {
    return new Location(path.toAbsolutePath().normalize().toUri());
  }

  /**
   * Parses a source URI.
   *
   * @throws IntakeException {@link IntakeReason#BAD_URI} when it does not parse or has no scheme,
   *     {@link IntakeReason#SCHEME_NOT_ALLOWED} for schemes other than http, https and file
   */
  static ImageSource parse(String text) throws IntakeException {
    Objects.requireNonNull(text, "text");
    String shown = text.length() > 200 ? text.substring(0, 200) + "…" : text;
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      throw IntakeReason.BAD_URI.exception(redactText(shown), e.getReason());
    }
    String label = redact(uri);
    if (uri.getScheme() == null) {
      throw IntakeReason.BAD_URI.exception(label, "no scheme (use http://, https:// or file://)");
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") && !scheme.equals("file")) {
      throw schemeRefusal(label, scheme);
    }
    if (uri.isOpaque()) {
      throw IntakeReason.BAD_URI.exception(label, "not a hierarchical URI");
    }
    return new Location(uri);
  }

  static IntakeException schemeRefusal(String label, String scheme) {
    String hint = switch (scheme) {
      case "s3" -> "s3:// is planned but not supported yet; use an https:// (e.g. presigned) URL";
      case "" -> "no scheme";
      default -> "use http://, https:// or file://";
    };
    return IntakeReason.SCHEME_NOT_ALLOWED.exception(label, scheme, hint);
  }

  /** The URI without user info, query or fragment, shortened for logs. */
  static String redact(URI uri) {
    StringBuilder b = new StringBuilder();
    if (uri.getScheme() != null) {
      b.append(uri.getScheme()).append(':');
    }
    if (uri.isOpaque()) {
      b.append(uri.getRawSchemeSpecificPart().length() > 80 ? "…" : uri.getRawSchemeSpecificPart());
      return b.toString();
    }
    String authority = uri.getRawAuthority();
    if (authority != null) {
      int at = authority.lastIndexOf('@');
      b.append("//").append(at >= 0 ? "…@" + authority.substring(at + 1) : authority);
    } else if (uri.getScheme() != null && uri.getScheme().equalsIgnoreCase("file")) {
      b.append("//");
    }
    if (uri.getRawPath() != null) {
      b.append(uri.getRawPath());
    }
    if (uri.getRawQuery() != null) {
      b.append("?…");
    }
    String s = b.toString();
    return s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }

  private static String redactText(String text) {
    int q = text.indexOf('?');
    return q < 0 ? text : text.substring(0, q) + "?…";
  }
}
