package io.semspai.registry;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach a schema registry that speaks the Confluent REST API (Confluent, Karapace, Redpanda, or Apicurio's
 * {@code /apis/ccompat/v7}). The property names follow Confluent's client, so existing configs carry over.
 *
 * @param url base URL, e.g. {@code http://127.0.0.1:8081/apis/ccompat/v7}
 * @param basicAuthUserInfo {@code user:password}, or null for no authentication
 * @param truststore PKCS12/JKS truststore for TLS, or null for the JVM default
 * @param truststorePassword its password, or null
 * @param timeout connect and per-request timeout
 * @param retries how many times a failed call (I/O error, 5xx, 429) is retried; 4xx answers are not retried
 * @param backoff first backoff; it doubles per retry
 * @param autoRegister whether serializers register their schema, or only look it up
 */
public record RegistryConfig(
    URI url,
    String basicAuthUserInfo,
    Path truststore,
    String truststorePassword,
    Duration timeout,
    int retries,
    Duration backoff,
    boolean autoRegister) {

  public static final String URL = "schema.registry.url";
  public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
  public static final String TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
  public static final String TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
  public static final String TIMEOUT_MS = "schema.registry.timeout.ms";
  public static final String RETRIES = "schema.registry.retries";
  public static final String BACKOFF_MS = "schema.registry.retry.backoff.ms";
  public static final String AUTO_REGISTER = "auto.register.schemas";

  public RegistryConfig {
    Objects.requireNonNull(url, URL);
    if (retries < 0) {
      throw new IllegalArgumentException(RETRIES + " must be >= 0, got " + retries);
    }
  }

  public static RegistryConfig of(String url) {
    return new RegistryConfig(parseUrl(url), null, null, null, Duration.ofSeconds(10), 3, Duration.ofMillis(200), true);
  }

  /** Reads the Confluent-style keys from a Kafka client config map. */
  public static RegistryConfig fromMap(Map<String, ?> configs) {
    Object url = configs.get(URL);
    if (url == null || url.toString().isBlank()) {
      throw new IllegalArgumentException("missing config " + URL + " (the schema registry's base URL)");
    }
    Object ts = configs.get(TRUSTSTORE_LOCATION);
    return new RegistryConfig(
        parseUrl(url.toString()),
        str(configs.get(BASIC_AUTH_USER_INFO)),
        ts == null ? null : Path.of(ts.toString()),
        str(configs.get(TRUSTSTORE_PASSWORD)),
        Duration.ofMillis(num(configs, TIMEOUT_MS, 10_000)),
        (int) num(configs, RETRIES, 3),
        Duration.ofMillis(num(configs, BACKOFF_MS, 200)),
        !"false".equalsIgnoreCase(String.valueOf(configs.get(AUTO_REGISTER))));
  }

  /** The registry settings of a service's config: the same keys, read through the one config loader. */
  public static RegistryConfig from(io.semspai.config.Settings s) {
    Map<String, Object> m = new java.util.HashMap<>();
    m.put(URL, s.required(URL));
    for (String k : new String[] {BASIC_AUTH_USER_INFO, TRUSTSTORE_LOCATION, TRUSTSTORE_PASSWORD, TIMEOUT_MS, RETRIES,
        BACKOFF_MS, AUTO_REGISTER}) {
      if (s.has(k)) {
        m.put(k, s.string(k, null));
      }
    }
    return fromMap(m);
  }

  private static URI parseUrl(String url) {
    String first = url.split(",")[0].trim();
    URI uri = URI.create(first.endsWith("/") ? first.substring(0, first.length() - 1) : first);
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
      throw new IllegalArgumentException(URL + " must be an http(s) URL, got '" + url + "'");
    }
    return uri;
  }

  private static String str(Object o) {
    return o == null || o.toString().isBlank() ? null : o.toString();
  }

  private static long num(Map<String, ?> configs, String key, long dflt) {
    Object v = configs.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Long.parseLong(v.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, got '" + v + "'", e);
    }
  }
}
