package io.semspai.fusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The threshold profiles a bundle carries (manifest field {@code thresholds}), at least {@code balanced} and
 * {@code strict}:
 *
 * <pre>
 * "thresholds": {
 *   "applies_to": "fused",            // the score they were set on: fused (fusion mode) or spectral
 *   "calibrated": false,              // random-init bundles: 0.5 / 0.5 placeholders
 *   "note": "…",                      // optional: how they were chosen
 *   "profiles": { "balanced": {"t_low": 0.5, "t_high": 0.5}, "strict": {"t_low": 0.5, "t_high": 0.5} }
 * }
 * </pre>
 */
public record ThresholdProfiles(Score appliesTo, boolean calibrated, String note, Map<String, ThresholdProfile> profiles) {
  public static final String FIELD = "thresholds";
  public static final String BALANCED = "balanced";
  public static final String STRICT = "strict";

  /** Which score a set of thresholds was chosen on. */
  public enum Score {
    FUSED, SPECTRAL;

    public String json() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public ThresholdProfiles {
    Objects.requireNonNull(appliesTo, "appliesTo");
    profiles = Collections.unmodifiableMap(new LinkedHashMap<>(profiles));
    for (String required : List.of(BALANCED, STRICT)) {
      if (!profiles.containsKey(required)) {
        throw new IllegalArgumentException("threshold profiles need '" + BALANCED + "' and '" + STRICT + "', got "
            + profiles.keySet());
      }
    }
    for (Map.Entry<String, ThresholdProfile> e : profiles.entrySet()) {
      if (!e.getKey().equals(e.getValue().name())) {
        throw new IllegalArgumentException("threshold profile under '" + e.getKey() + "' is named '"
            + e.getValue().name() + "'");
      }
    }
  }

  /** 0.5 / 0.5 for both profiles, marked uncalibrated: what a random-init bundle carries. */
  public static ThresholdProfiles uncalibrated(Score appliesTo, String note) {
    Map<String, ThresholdProfile> p = new LinkedHashMap<>();
    p.put(BALANCED, new ThresholdProfile(BALANCED, 0.5, 0.5));
    p.put(STRICT, new ThresholdProfile(STRICT, 0.5, 0.5));
    return new ThresholdProfiles(appliesTo, false, note, p);
  }

  /** Calibrated profiles (a trainer's recalibration). */
  public static ThresholdProfiles calibrated(Score appliesTo, String note, List<ThresholdProfile> list) {
    Map<String, ThresholdProfile> p = new LinkedHashMap<>();
    for (ThresholdProfile t : list) {
      if (p.put(t.name(), t) != null) {
        throw new IllegalArgumentException("threshold profile " + t.name() + " given twice");
      }
    }
    return new ThresholdProfiles(appliesTo, true, note, p);
  }

  public ThresholdProfile profile(String name) {
    ThresholdProfile p = profiles.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no threshold profile '" + name + "' (this model has " + profiles.keySet()
          + ")");
    }
    return p;
  }

  public ThresholdProfile balanced() {
    return profile(BALANCED);
  }

  public ThresholdProfile strict() {
    return profile(STRICT);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public ObjectNode toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("applies_to", appliesTo.json());
    n.put("calibrated", calibrated);
    if (note != null) {
      n.put("note", note);
    }
    ObjectNode ps = n.putObject("profiles");
    for (ThresholdProfile p : profiles.values()) {
      ps.putObject(p.name()).put("t_low", p.tLow()).put("t_high", p.tHigh());
    }
    return n;
  }

  /** Parses the manifest form; the message says what is wrong. */
  public static ThresholdProfiles fromJson(JsonNode n) {
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("thresholds must be an object with applies_to, calibrated and profiles");
    }
    String applies = n.path("applies_to").asText("");
    Score score = switch (applies) {
      case "fused" -> Score.FUSED;
      case "spectral" -> Score.SPECTRAL;
      default -> throw new IllegalArgumentException("thresholds.applies_to must be fused or spectral, got '" + applies
          + "'");
    };
    if (!n.path("calibrated").isBoolean()) {
      throw new IllegalArgumentException("thresholds.calibrated must be true or false");
    }
    JsonNode ps = n.path("profiles");
    if (!ps.isObject()) {
      throw new IllegalArgumentException("thresholds.profiles must be an object of {t_low, t_high} pairs");
    }
    List<ThresholdProfile> list = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = ps.properties().iterator(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode lo = e.getValue().get("t_low");
      JsonNode hi = e.getValue().get("t_high");
      if (lo == null || hi == null || !lo.isNumber() || !hi.isNumber()) {
        throw new IllegalArgumentException("threshold profile " + e.getKey() + " needs numeric t_low and t_high");
      }
      list.add(new ThresholdProfile(e.getKey(), lo.asDouble(), hi.asDouble()));
    }
    Map<String, ThresholdProfile> map = new LinkedHashMap<>();
    list.forEach(p -> map.put(p.name(), p));
    return new ThresholdProfiles(score, n.path("calibrated").asBoolean(), n.hasNonNull("note") ? n.get("note").asText()
        : null, map);
  }
}
