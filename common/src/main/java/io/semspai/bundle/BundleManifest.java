package io.semspai.bundle;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * {@code manifest.json} of a model bundle. A bundle is a directory with this manifest and one safetensors file
 * per component ({@code spai} now; the semantic issue adds {@code convnext} and {@code head}). Each component
 * records its file's size and sha256, its architecture (the component's own config JSON), free-form settings
 * (for {@code spai}: {@code input_policy}) and where its weights came from. Top-level fields this version does
 * not know (threshold profiles, later) are kept as they are and written back unchanged.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"format", "name", "version", "created", "components"})
public final class BundleManifest {
  public static final int FORMAT = 1;
  public static final String FILE_NAME = "manifest.json";

  /** Semantic version: MAJOR.MINOR.PATCH with optional pre-release and build parts. */
  static final Pattern SEMVER = Pattern.compile(
      "(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?");

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Where a component's weights came from. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Provenance(
      @JsonProperty("source") String source,
      @JsonProperty("seed") Long seed,
      @JsonProperty("checkpoint") String checkpoint,
      @JsonProperty("checkpoint_sha256") String checkpointSha256) {
    public static Provenance randomInit(long seed) {
      return new Provenance("random-init, seed " + seed, seed, null, null);
    }

    public static Provenance upstream(String checkpoint, String sha256) {
      return new Provenance("upstream checkpoint " + checkpoint, null, checkpoint, sha256);
    }
  }

  /** One weight file and what it holds. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"file", "bytes", "sha256", "architecture", "settings", "provenance"})
  public record Component(
      @JsonProperty("file") String file,
      @JsonProperty("bytes") long bytes,
      @JsonProperty("sha256") String sha256,
      @JsonProperty("architecture") JsonNode architecture,
      @JsonProperty("settings") Map<String, String> settings,
      @JsonProperty("provenance") Provenance provenance) {
    public Component {
      settings = settings == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(settings));
    }

    public String setting(String key, String fallback) {
      return settings.getOrDefault(key, fallback);
    }
  }

  @JsonProperty("format")
  private int format = FORMAT;

  @JsonProperty("name")
  private String name;

  @JsonProperty("version")
  private String version;

  @JsonProperty("created")
  private String created;

  @JsonProperty("components")
  private Map<String, Component> components = new LinkedHashMap<>();

  private final Map<String, JsonNode> other = new LinkedHashMap<>();

  BundleManifest() {}

  public BundleManifest(String name, String version, String created) {
    this.name = Objects.requireNonNull(name, "name");
    this.version = Objects.requireNonNull(version, "version");
    this.created = Objects.requireNonNull(created, "created");
    if (!SEMVER.matcher(version).matches()) {
      throw new IllegalArgumentException("version '" + version + "' is not a semantic version (like 1.0.0)");
    }
  }

  public int format() {
    return format;
  }

  public String name() {
    return name;
  }

  public String version() {
    return version;
  }

  public String created() {
    return created;
  }

  public Map<String, Component> components() {
    return components;
  }

  public Component component(String componentName) {
    return components.get(componentName);
  }

  /** Fields of newer manifest versions, kept verbatim. */
  @JsonAnyGetter
  public Map<String, JsonNode> other() {
    return other;
  }

  @JsonAnySetter
  void setOther(String key, JsonNode value) {
    other.put(key, value);
  }

  void putComponent(String componentName, Component c) {
    components.put(componentName, c);
  }

  public String toJson() throws IOException {
    return JSON.writeValueAsString(this);
  }

  static BundleManifest parse(String json) throws IOException {
    return JSON.readValue(json, BundleManifest.class);
  }
}
