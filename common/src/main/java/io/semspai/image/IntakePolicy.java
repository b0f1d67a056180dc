package io.semspai.image;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every limit of the image intake in one value. The detector, the trainer and the CLI build it from their
 * configuration with {@link #fromMap(Map)} (keys {@code intake.*}, listed in {@link #KEYS} and in
 * {@code docs/intake.md}) or with {@link #builder()}.
 *
 * @param maxBytes largest accepted body or file, counted after Content-Encoding is inflated
 * @param maxPixels largest width × height, checked from the header before any pixel is allocated
 * @param maxWidth largest width
 * @param maxHeight largest height
 * @param connectTimeout per TCP connect (and TLS handshake)
 * @param readTimeout longest wait for the next bytes from the server
 * @param totalDeadline one fetch from start to last byte, redirects, retries, backoff and queueing included
 * @param maxRedirects redirects followed; each hop is checked like the first
 * @param maxRetries extra attempts after a timeout or a 5xx; 4xx is never retried
 * @param retryBackoff wait before the first retry; doubles per retry, with jitter
 * @param retryBackoffMax longest single backoff
 * @param maxInFlight fetches (http and file) running at once per {@link ImageIntake}
 * @param fileRoots folders under which {@code file://} sources may be read; empty disables {@code file://}
 * @param allow CIDRs ({@code 10.1.0.0/16}, {@code ::1/128}, a bare address) and host names ({@code images.corp},
 *     {@code *.corp}) that bypass the address refusal. A host entry allows whatever that host resolves to; it does not
 *     carry over to a redirect's target
 * @param applyExifOrientation rotate/flip by the EXIF Orientation tag. Off by default because the upstream models
 *     were trained on PIL's {@code Image.open(...).convert("RGB")}, which does not apply it
 * @param decodeTimeout longest decode, waiting for a decode slot included
 * @param maxDecodesInFlight decodes running at once; bounds decoder memory to about this many × max-pixels × 8 bytes
 */
public record IntakePolicy(
    long maxBytes,
    long maxPixels,
    int maxWidth,
    int maxHeight,
    Duration connectTimeout,
    Duration readTimeout,
    Duration totalDeadline,
    int maxRedirects,
    int maxRetries,
    Duration retryBackoff,
    Duration retryBackoffMax,
    int maxInFlight,
    List<Path> fileRoots,
    List<String> allow,
    boolean applyExifOrientation,
    Duration decodeTimeout,
    int maxDecodesInFlight) {

  public static final String PREFIX = "intake.";
  public static final String MAX_BYTES = "intake.max-bytes";
  public static final String MAX_PIXELS = "intake.max-pixels";
  public static final String MAX_WIDTH = "intake.max-width";
  public static final String MAX_HEIGHT = "intake.max-height";
  public static final String CONNECT_TIMEOUT = "intake.connect-timeout";
  public static final String READ_TIMEOUT = "intake.read-timeout";
  public static final String TOTAL_DEADLINE = "intake.total-deadline";
  public static final String MAX_REDIRECTS = "intake.max-redirects";
  public static final String MAX_RETRIES = "intake.max-retries";
  public static final String RETRY_BACKOFF = "intake.retry-backoff";
  public static final String RETRY_BACKOFF_MAX = "intake.retry-backoff-max";
  public static final String MAX_IN_FLIGHT = "intake.max-in-flight";
  public static final String FILE_ROOTS = "intake.file-roots";
  public static final String ALLOW = "intake.allow";
  public static final String APPLY_EXIF_ORIENTATION = "intake.apply-exif-orientation";
  public static final String DECODE_TIMEOUT = "intake.decode-timeout";
  public static final String MAX_DECODES_IN_FLIGHT = "intake.max-decodes-in-flight";

  /** Every key {@link #fromMap(Map)} understands, in documentation order. */
  public static final List<String> KEYS = List.of(
      MAX_BYTES, MAX_PIXELS, MAX_WIDTH, MAX_HEIGHT, CONNECT_TIMEOUT, READ_TIMEOUT, TOTAL_DEADLINE, MAX_REDIRECTS,
      MAX_RETRIES, RETRY_BACKOFF, RETRY_BACKOFF_MAX, MAX_IN_FLIGHT, FILE_ROOTS, ALLOW, APPLY_EXIF_ORIENTATION,
      DECODE_TIMEOUT, MAX_DECODES_IN_FLIGHT);

  public IntakePolicy {
    positive(maxBytes, MAX_BYTES);
    positive(maxPixels, MAX_PIXELS);
    positive(maxWidth, MAX_WIDTH);
    positive(maxHeight, MAX_HEIGHT);
    if (maxBytes > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(MAX_BYTES + " must be below 2 GiB, got " + maxBytes);
    }
    if (maxPixels > Integer.MAX_VALUE / 3) {
      throw new IllegalArgumentException(MAX_PIXELS + " must be at most " + Integer.MAX_VALUE / 3
          + " (an RGB image is one Java array), got " + maxPixels);
    }
    positive(connectTimeout, CONNECT_TIMEOUT);
    positive(readTimeout, READ_TIMEOUT);
    positive(totalDeadline, TOTAL_DEADLINE);
    notNegative(maxRedirects, MAX_REDIRECTS);
    notNegative(maxRetries, MAX_RETRIES);
    notNegative(retryBackoff, RETRY_BACKOFF);
    notNegative(retryBackoffMax, RETRY_BACKOFF_MAX);
    positive(maxInFlight, MAX_IN_FLIGHT);
    positive(decodeTimeout, DECODE_TIMEOUT);
    positive(maxDecodesInFlight, MAX_DECODES_IN_FLIGHT);
    List<Path> roots = new ArrayList<>();
    for (Path root : fileRoots) {
      if (!root.isAbsolute()) {
        throw new IllegalArgumentException(FILE_ROOTS + " entries must be absolute paths, got " + root);
      }
      roots.add(root.normalize());
    }
    fileRoots = List.copyOf(roots);
    allow = List.copyOf(allow);
    AddressPolicy.parseAllowlist(allow); // fails here, at configuration time, on a bad entry
  }

  public static IntakePolicy defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  public static IntakePolicy fromProperties(Properties properties) {
    Map<String, String> map = new LinkedHashMap<>();
    for (String name : properties.stringPropertyNames()) {
      map.put(name, properties.getProperty(name));
    }
    return fromMap(map);
  }

  /**
   * Reads the {@code intake.*} keys of a configuration map; other keys are ignored, an unknown {@code intake.*}
   * key is an error (a typo must not silently keep a default). Durations: {@code 250ms}, {@code 5s}, {@code 2m},
   * {@code 1h} or ISO-8601 ({@code PT5S}). Sizes: bytes, or with {@code KiB}, {@code MiB}, {@code GiB}
   * ({@code KB}/{@code MB}/{@code GB} are decimal). Lists: comma-separated.
   */
  public static IntakePolicy fromMap(Map<String, String> config) {
    Builder b = builder();
    TreeSet<String> unknown = new TreeSet<>();
    for (Map.Entry<String, String> e : config.entrySet()) {
      String key = e.getKey();
      if (!key.startsWith(PREFIX)) {
        continue;
      }
      String value = e.getValue() == null ? "" : e.getValue().trim();
      try {
        switch (key) {
          case MAX_BYTES -> b.maxBytes(parseSize(value));
          case MAX_PIXELS -> b.maxPixels(parseCount(value));
          case MAX_WIDTH -> b.maxWidth(Math.toIntExact(parseCount(value)));
          case MAX_HEIGHT -> b.maxHeight(Math.toIntExact(parseCount(value)));
          case CONNECT_TIMEOUT -> b.connectTimeout(parseDuration(value));
          case READ_TIMEOUT -> b.readTimeout(parseDuration(value));
          case TOTAL_DEADLINE -> b.totalDeadline(parseDuration(value));
          case MAX_REDIRECTS -> b.maxRedirects(Math.toIntExact(parseCount(value)));
          case MAX_RETRIES -> b.maxRetries(Math.toIntExact(parseCount(value)));
          case RETRY_BACKOFF -> b.retryBackoff(parseDuration(value));
          case RETRY_BACKOFF_MAX -> b.retryBackoffMax(parseDuration(value));
          case MAX_IN_FLIGHT -> b.maxInFlight(Math.toIntExact(parseCount(value)));
          case FILE_ROOTS -> b.fileRoots(splitList(value).stream().map(Path::of).toList());
          case ALLOW -> b.allow(splitList(value));
          case APPLY_EXIF_ORIENTATION -> b.applyExifOrientation(parseBoolean(value));
          case DECODE_TIMEOUT -> b.decodeTimeout(parseDuration(value));
          case MAX_DECODES_IN_FLIGHT -> b.maxDecodesInFlight(Math.toIntExact(parseCount(value)));
          default -> unknown.add(key);
        }
      } catch (IllegalArgumentException | ArithmeticException ex) {
        throw new IllegalArgumentException(key + "=" + value + ": " + ex.getMessage(), ex);
      }
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown intake setting(s) " + unknown + "; known: " + KEYS);
    }
    return b.build();
  }

  /** The effective settings as {@code intake.*} strings that {@link #fromMap(Map)} reads back. */
  public Map<String, String> toMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(MAX_BYTES, Long.toString(maxBytes));
    m.put(MAX_PIXELS, Long.toString(maxPixels));
    m.put(MAX_WIDTH, Integer.toString(maxWidth));
    m.put(MAX_HEIGHT, Integer.toString(maxHeight));
    m.put(CONNECT_TIMEOUT, connectTimeout.toMillis() + "ms");
    m.put(READ_TIMEOUT, readTimeout.toMillis() + "ms");
    m.put(TOTAL_DEADLINE, totalDeadline.toMillis() + "ms");
    m.put(MAX_REDIRECTS, Integer.toString(maxRedirects));
    m.put(MAX_RETRIES, Integer.toString(maxRetries));
    m.put(RETRY_BACKOFF, retryBackoff.toMillis() + "ms");
    m.put(RETRY_BACKOFF_MAX, retryBackoffMax.toMillis() + "ms");
    m.put(MAX_IN_FLIGHT, Integer.toString(maxInFlight));
    m.put(FILE_ROOTS, String.join(",", fileRoots.stream().map(Path::toString).toList()));
    m.put(ALLOW, String.join(",", allow));
    m.put(APPLY_EXIF_ORIENTATION, Boolean.toString(applyExifOrientation));
    m.put(DECODE_TIMEOUT, decodeTimeout.toMillis() + "ms");
    m.put(MAX_DECODES_IN_FLIGHT, Integer.toString(maxDecodesInFlight));
    return m;
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|kb|mb|gb|kib|mib|gib)?");

  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    try {
      return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not a duration (use 250ms, 5s, 2m, 1h or PT5S): '" + text + "'");
    }
  }

  static long parseSize(String text) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT).replace("_", ""));
    if (!m.matches()) {
      throw new IllegalArgumentException("not a size (use bytes, or KiB, MiB, GiB): '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2);
    long factor = switch (unit) {
      case "kib" -> 1L << 10;
      case "mib" -> 1L << 20;
      case "gib" -> 1L << 30;
      case "kb" -> 1_000L;
      case "mb" -> 1_000_000L;
      case "gb" -> 1_000_000_000L;
      default -> 1L;
    };
    return Math.multiplyExact(n, factor);
  }

  static long parseCount(String text) {
    String t = text.trim().replace("_", "");
    if (!t.matches("\\d+")) {
      throw new IllegalArgumentException("not a non-negative integer: '" + text + "'");
    }
    return Long.parseLong(t);
  }

  static boolean parseBoolean(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException("not a boolean: '" + text + "'");
    };
  }

  static List<String> splitList(String text) {
    List<String> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }

  private static void positive(long v, String key) {
    if (v <= 0) {
      throw new IllegalArgumentException(key + " must be positive, got " + v);
    }
  }

  private static void notNegative(long v, String key) {
    if (v < 0) {
      throw new IllegalArgumentException(key + " must not be negative, got " + v);
    }
  }

  private static void positive(Duration d, String key) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(key + " must be a positive duration, got " + d);
    }
  }

  private static void notNegative(Duration d, String key) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(key + " must not be negative, got " + d);
    }
  }

  /** Defaults: 20 MiB, 40 MP, 32768 px per side, 5 s connect, 10 s read, 30 s in all, 5 redirects, 2 retries. */
  public static final class Builder {
    private long maxBytes = 20L << 20;
    private long maxPixels = 40_000_000L;
    private int maxWidth = 32_768;
    private int maxHeight = 32_768;
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration readTimeout = Duration.ofSeconds(10);
    private Duration totalDeadline = Duration.ofSeconds(30);
    private int maxRedirects = 5;
    private int maxRetries = 2;
    private Duration retryBackoff = Duration.ofMillis(200);
    private Duration retryBackoffMax = Duration.ofSeconds(2);
    private int maxInFlight = 64;
    private List<Path> fileRoots = List.of();
    private List<String> allow = List.of();
    private boolean applyExifOrientation = false;
    private Duration decodeTimeout = Duration.ofSeconds(10);
    private int maxDecodesInFlight = Math.max(1, Runtime.getRuntime().availableProcessors());

    private Builder() {}

    private Builder(IntakePolicy p) {
      maxBytes = p.maxBytes;
      maxPixels = p.maxPixels;
      maxWidth = p.maxWidth;
      maxHeight = p.maxHeight;
      connectTimeout = p.connectTimeout;
      readTimeout = p.readTimeout;
      totalDeadline = p.totalDeadline;
      maxRedirects = p.maxRedirects;
      maxRetries = p.maxRetries;
      retryBackoff = p.retryBackoff;
      retryBackoffMax = p.retryBackoffMax;
      maxInFlight = p.maxInFlight;
      fileRoots = p.fileRoots;
      allow = p.allow;
      applyExifOrientation = p.applyExifOrientation;
      decodeTimeout = p.decodeTimeout;
      maxDecodesInFlight = p.maxDecodesInFlight;
    }

    public Builder maxBytes(long v) {
      maxBytes = v;
      return this;
    }

    public Builder maxPixels(long v) {
      maxPixels = v;
      return this;
    }

    public Builder maxWidth(int v) {
      maxWidth = v;
      return this;
    }

    public Builder maxHeight(int v) {
      maxHeight = v;
      return this;
    }

    public Builder connectTimeout(Duration v) {
      connectTimeout = v;
      return this;
    }

    public Builder readTimeout(Duration v) {
      readTimeout = v;
      return this;
    }

    public Builder totalDeadline(Duration v) {
      totalDeadline = v;
      return this;
    }

    public Builder maxRedirects(int v) {
      maxRedirects = v;
      return this;
    }

    public Builder maxRetries(int v) {
      maxRetries = v;
      return this;
    }

    public Builder retryBackoff(Duration v) {
      retryBackoff = v;
      return this;
    }

    public Builder retryBackoffMax(Duration v) {
      retryBackoffMax = v;
      return this;
    }

    public Builder maxInFlight(int v) {
      maxInFlight = v;
      return this;
    }

    public Builder fileRoots(List<Path> v) {
      fileRoots = List.copyOf(v);
      return this;
    }

    public Builder allow(List<String> v) {
      allow = List.copyOf(v);
      return this;
    }

    public Builder applyExifOrientation(boolean v) {
      applyExifOrientation = v;
      return this;
    }

    public Builder decodeTimeout(Duration v) {
      decodeTimeout = v;
      return this;
    }

    public Builder maxDecodesInFlight(int v) {
      maxDecodesInFlight = v;
      return this;
    }

    public IntakePolicy build() {
      return new IntakePolicy(maxBytes, maxPixels, maxWidth, maxHeight, connectTimeout, readTimeout, totalDeadline,
          maxRedirects, maxRetries, retryBackoff, retryBackoffMax, maxInFlight, fileRoots, allow,
          applyExifOrientation, decodeTimeout, maxDecodesInFlight);
    }
  }
}
