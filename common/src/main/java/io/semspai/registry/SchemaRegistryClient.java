package io.semspai.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small client for the Confluent Schema Registry REST API: just what the project's serdes and its startup use.
 * Thread-safe; ids and schemas are cached forever (an id never changes its schema).
 */
public final class SchemaRegistryClient {
  private static final Logger log = LoggerFactory.getLogger(SchemaRegistryClient.class);
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Confluent's compatibility levels, the subset this project sets. */
  public enum Compatibility { NONE, BACKWARD, FORWARD, FULL, BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE, FULL_TRANSITIVE }

  private final RegistryConfig config;
  private final HttpClient http;
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();

  public SchemaRegistryClient(RegistryConfig config) {
    this.config = config;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(config.timeout());
    if (config.truststore() != null) {
      b.sslContext(sslContext(config));
    }
    this.http = b.build();
  }

  public RegistryConfig config() {
    return config;
  }

  /** Registers {@code schema} under {@code subject} (idempotent) and returns its global id. */
  public int register(String subject, Schema schema) {
    String key = subject + '\u0000' + schema;
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return cached;
    }
    ObjectNode body = JSON.createObjectNode().put("schema", schema.toString());
    JsonNode res = call("POST", "/subjects/" + enc(subject) + "/versions", body, subject);
    int id = res.get("id").asInt();
    schemasById.putIfAbsent(id, schema);
    idsBySubjectAndSchema.put(key, id);
    return id;
  }

  /** Finds the id of {@code schema} already registered under {@code subject}, without registering it. */
  public int lookup(String subject, Schema schema) {
    String key = subject + '\u0000' + schema;
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return cached;
    }
    ObjectNode body = JSON.createObjectNode().put("schema", schema.toString());
    JsonNode res = call("POST", "/subjects/" + enc(subject), body, subject);
    int id = res.get("id").asInt();
    schemasById.putIfAbsent(id, schema);
    idsBySubjectAndSchema.put(key, id);
    return id;
  }

  /** The writer schema registered under {@code id}. */
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode res;
    try {
      res = call("GET", "/schemas/ids/" + id, null, null);
    } catch (RegistryException e) {
      if (e.httpStatus() == 404) {
        throw new RegistryException.UnknownSchemaId(id, config.url().toString(), e.httpStatus(), e.errorCode());
      }
      throw e;
    }
    JsonNode type = res.get("schemaType");
    if (type != null && !"AVRO".equals(type.asText())) {
      throw new RegistryException("schema id " + id + " is a " + type.asText() + " schema, not Avro", 200, -1, null);
    }
    Schema schema = new Schema.Parser().parse(res.get("schema").asText());
    Schema prev = schemasById.putIfAbsent(id, schema);
    return prev == null ? schema : prev;
  }

  /** Sets the compatibility rule of one subject; the registry's global default is never touched. */
  public void setCompatibility(String subject, Compatibility level) {
    call("PUT", "/config/" + enc(subject), JSON.createObjectNode().put("compatibility", level.name()), subject);
  }

  /** The subject's own compatibility rule, or null when it has none and follows the global default. */
  public Compatibility compatibility(String subject) {
    try {
      JsonNode res = call("GET", "/config/" + enc(subject), null, subject);
      JsonNode lvl = res.has("compatibilityLevel") ? res.get("compatibilityLevel") : res.get("compatibility");
      return lvl == null ? null : Compatibility.valueOf(lvl.asText());
    } catch (RegistryException e) {
      if (e.httpStatus() == 404) {
        return null;
      }
      throw e;
    }
  }

  private JsonNode call(String method, String path, JsonNode body, String subject) {
    URI uri = URI.create(config.url() + path);
    HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(config.timeout()).header("Accept", CONTENT_TYPE);
    if (config.basicAuthUserInfo() != null) {
      rb.header("Authorization", "Basic "
          + Base64.getEncoder().encodeToString(config.basicAuthUserInfo().getBytes(StandardCharsets.UTF_8)));
    }
    if (body != null) {
      rb.header("Content-Type", CONTENT_TYPE).method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    } else {
      rb.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpRequest req = rb.build();
    long backoff = config.backoff().toMillis();
    for (int attempt = 0; ; attempt++) {
      RegistryException failure;
      try {
        HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
        int status = res.statusCode();
        if (status / 100 == 2) {
          return JSON.readTree(res.body());
        }
        failure = errorFrom(method, uri, status, res.body(), subject);
        boolean retryable = status >= 500 || status == 429;
        if (!retryable) {
          throw failure;
        }
      } catch (IOException e) {
        failure = new RegistryException(method + " " + uri + " failed: " + e, -1, -1, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryException(method + " " + uri + " interrupted", -1, -1, e);
      }
      if (attempt >= config.retries()) {
        throw failure;
      }
      log.warn("schema registry call failed (attempt {} of {}), retrying in {} ms: {}",
          attempt + 1, config.retries() + 1, backoff, failure.getMessage());
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw failure;
      }
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  private static RegistryException errorFrom(String method, URI uri, int status, String body, String subject) {
    int code = -1;
    String message = body;
    try {
      JsonNode err = JSON.readTree(body);
      if (err.has("error_code")) {
        code = err.get("error_code").asInt();
      }
      if (err.has("message")) {
        message = err.get("message").asText();
      }
    } catch (IOException ignored) {
      // Not JSON: keep the raw body as the message.
    }
    if (status == 409 || code == 409) {
      return new RegistryException.Incompatible(subject, message, status, code);
    }
    return new RegistryException(
        method + " " + uri + " answered HTTP " + status + (code > 0 ? " (error " + code + ")" : "") + ": " + message,
        status, code, null);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static SSLContext sslContext(RegistryConfig config) {
    try (InputStream in = Files.newInputStream(config.truststore())) {
      String name = config.truststore().getFileName().toString().toLowerCase();
      KeyStore ks = KeyStore.getInstance(name.endsWith(".jks") ? "JKS" : "PKCS12");
      char[] pw = config.truststorePassword() == null ? null : config.truststorePassword().toCharArray();
      ks.load(in, pw);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot load the registry truststore " + config.truststore() + ": " + e.getMessage(), e);
    }
  }
}
