package io.semspai.fusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * The sha256 of the backbone weight files (the bundle's {@code spai.safetensors} and {@code convnext.safetensors})
 * a fusion head was trained on. A head only makes sense on exactly these features, so a head bundle records them and
 * a model refuses a head whose hashes differ from its own. Manifest form:
 * {@code "backbones": {"spai": {"sha256": "…"}, "convnext": {"sha256": "…"}}}.
 */
public record BackboneHashes(String spai, String convnext) {
  public static final String FIELD = "backbones";

  public BackboneHashes {
    check("spai", spai);
    check("convnext", convnext);
  }

  private static void check(String what, String sha) {
    Objects.requireNonNull(sha, what + " sha256");
    if (!sha.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("backbone " + what + " sha256 '" + sha + "' is not 64 lowercase hex digits");
    }
  }

  public ObjectNode toJson() {
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.putObject("spai").put("sha256", spai);
    n.putObject("convnext").put("sha256", convnext);
    return n;
  }

  public static BackboneHashes fromJson(JsonNode n) {
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("backbones must be {\"spai\": {\"sha256\": …}, \"convnext\": {\"sha256\": …}}");
    }
    return new BackboneHashes(n.path("spai").path("sha256").asText(null), n.path("convnext").path("sha256")
        .asText(null));
  }

  /** {@code spai 3f2a9c41…, convnext 9c41d0e2…}: short enough for a one-line message. */
  public String shortForm() {
    return "spai " + spai.substring(0, 12) + "…, convnext " + convnext.substring(0, 12) + "…";
  }
}
