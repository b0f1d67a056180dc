package io.semspai.image;

import java.util.Locale;

/**
 * Why an image was not taken in. Every intake failure carries exactly one of these; {@code docs/intake.md} has the
 * same table for operators.
 *
 * <p>Each code has a message template whose first argument is always the input (a redacted URI, a file path or an
 * inline label); the rest name what was seen and the limit it broke. Build exceptions with
 * {@link #exception(String, Object...)} so every message is written the same way.
 */
public enum IntakeReason {
  // ---- the source ----
  BAD_URI(
      "the source is not a usable URI (no scheme, bad host or port, credentials in the URI, a numeric-looking host"
          + " that is not an address)",
      "-", "image %s: not a usable URI: %s"),
  SCHEME_NOT_ALLOWED(
      "the URI scheme is not http, https or file (s3:// is planned)", "-",
      "image %s: scheme '%s' is not supported (%s)"),
  ADDRESS_NOT_ALLOWED(
      "the host resolves to a loopback, private, link-local, multicast, reserved or otherwise internal address",
      "intake.allow",
      "image %s: host %s resolves to %s, a %s address, which is refused (allow it with intake.allow)"),
  PATH_NOT_ALLOWED(
      "a file:// path is outside every configured root, or a symlink leads outside them",
      "intake.file-roots",
      "image %s: %s (set intake.file-roots)"),
  FILE_NOT_FOUND("a file:// path does not exist or is not a regular file", "-", "image %s: %s"),
  READ_FAILED("a local file exists but cannot be read", "-", "image %s: cannot read %s: %s"),

  // ---- the network ----
  DNS_FAILED("the host name does not resolve", "-", "image %s: cannot resolve host %s: %s"),
  CONNECT_FAILED("no TCP connection could be opened, or it broke", "-", "image %s: cannot connect to %s: %s"),
  TLS_FAILED(
      "the TLS handshake failed, or the certificate does not match the host name", "-",
      "image %s: TLS with %s failed: %s"),
  TIMEOUT(
      "connecting, reading or the whole fetch (redirects and retries included) took too long",
      "intake.connect-timeout, intake.read-timeout, intake.total-deadline",
      "image %s: %s timed out after %d ms (set %s)"),
  BUSY(
      "every fetch slot stayed taken until the deadline",
      "intake.max-in-flight",
      "image %s: no fetch slot came free within %d ms (%d fetches in flight; set intake.max-in-flight)"),
  TOO_LARGE(
      "the body (after Content-Encoding is inflated) or the file is larger than the limit",
      "intake.max-bytes",
      "image %s: %s exceeds max-bytes %d (set intake.max-bytes)"),
  HTTP_4XX("the server answered 4xx; never retried", "-", "image %s: HTTP %d from %s"),
  HTTP_5XX(
      "the server answered 5xx on every attempt",
      "intake.max-retries, intake.retry-backoff",
      "image %s: HTTP %d from %s after %d attempt(s) (set intake.max-retries)"),
  REDIRECT_LIMIT(
      "more redirects than allowed", "intake.max-redirects",
      "image %s: more than %d redirects (set intake.max-redirects)"),
  BAD_RESPONSE(
      "the HTTP response is malformed or unusable (no Location, bad chunking, unknown encoding, ...)", "-",
      "image %s: unusable HTTP response from %s: %s"),
  CANCELLED("the calling thread was interrupted", "-", "image %s: cancelled while %s"),

  // ---- the bytes ----
  EMPTY("zero bytes", "-", "image %s: zero bytes"),
  UNSUPPORTED_FORMAT(
      "not JPEG, PNG, WebP, GIF, BMP or TIFF (HTML, SVG, PDF, ...), or a variant the decoders cannot read", "-",
      "image %s: %s; supported: JPEG, PNG, WebP, GIF, BMP, TIFF"),
  TRUNCATED(
      "the file ends before its image data does (PIL refuses these too; never scored as a partly grey image)", "-",
      "image %s: truncated %s: %s"),
  CORRUPT(
      "the file fails a checksum or its structure is broken", "-", "image %s: corrupt %s: %s"),
  DECOMPRESSION_BOMB(
      "compressed data inside the file inflates far past what its header needs", "-",
      "image %s: %s inflates past %d bytes: %s"),
  TOO_MANY_PIXELS(
      "width × height from the header exceeds the pixel limit; refused before any pixel is allocated",
      "intake.max-pixels",
      "image %s: %d×%d px exceeds max-pixels %d (set intake.max-pixels)"),
  DIMENSION_TOO_LARGE(
      "width or height from the header exceeds its own limit",
      "intake.max-width, intake.max-height",
      "image %s: %d×%d px exceeds max-%s %d (set intake.max-%s)"),
  DECODE_TIMEOUT(
      "decoding did not finish in time (e.g. a progressive JPEG with very many scans), or no decode slot came free",
      "intake.decode-timeout, intake.max-decodes-in-flight",
      "image %s: %s (set intake.decode-timeout)"),
  DECODER_FAILURE(
      "the decoder crashed on the file (runtime exception, OutOfMemoryError from a malformed header, ...)", "-",
      "image %s: the %s decoder failed: %s");

  private final String meaning;
  private final String settings;
  private final String template;

  IntakeReason(String meaning, String settings, String template) {
    this.meaning = meaning;
    this.settings = settings;
    this.template = template;
  }

  /** One line for operators: what the code means. */
  public String meaning() {
    return meaning;
  }

  /** The configuration keys an operator can change about it, or "-". */
  public String settings() {
    return settings;
  }

  /** The {@link String#format} template; the first argument is the input. */
  public String template() {
    return template;
  }

  /** Whether the same request may succeed later (timeouts, 5xx, a busy intake), as opposed to a bad input. */
  public boolean transientFailure() {
    return this == TIMEOUT || this == HTTP_5XX || this == BUSY || this == CONNECT_FAILED || this == DNS_FAILED
        || this == DECODE_TIMEOUT;
  }

  /** Formats the template; {@code input} is the (already redacted) source. */
  public String message(String input, Object... args) {
    Object[] all = new Object[args.length + 1];
    all[0] = input;
    System.arraycopy(args, 0, all, 1, args.length);
    return String.format(Locale.ROOT, template, all);
  }

  public IntakeException exception(String input, Object... args) {
    return new IntakeException(this, input, message(input, args));
  }

  public IntakeException exception(Throwable cause, String input, Object... args) {
    IntakeException e = exception(input, args);
    e.initCause(cause);
    return e;
  }
}
