package io.semspai.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The one config loader: a properties file, overridden by environment variables, read through typed getters that
 * name the key in every error. The variable for key {@code detector.max-parked} is {@code SEMSPAI_DETECTOR_MAX_PARKED}
 * (upper case, {@code .} and {@code -} become {@code _}).
 */
public final class Settings {
  public static final String ENV_PREFIX = "SEMSPAI_";

  private final Map<String, String> values;
  private final Map<String, String> env;
  private final String source;

  private Settings(Map<String, String> values, Map<String, String> env, String source) {
    this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    this.env = Map.copyOf(env);
    this.source = source;
  }

  /** Reads {@code file} (null for none); every key, in the file or not, can be overridden from {@code env}. */
  public static Settings load(Path file, Map<String, String> env) {
    Map<String, String> v = new TreeMap<>();
    if (file != null) {
      if (!Files.isRegularFile(file)) {
        throw new ConfigException("config file " + file + " does not exist or is not a file");
      }
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IOException | IllegalArgumentException e) {
        throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
      }
      p.stringPropertyNames().forEach(k -> v.put(k, p.getProperty(k).trim()));
    }
    Map<String, String> ours = new TreeMap<>();
    env.forEach((k, val) -> {
      if (k.startsWith(ENV_PREFIX)) {
        ours.put(k, val);
      }
    });
    return new Settings(v, ours, file == null ? "the environment" : file.toString());
  }

  public static Settings of(Map<String, String> values) {
    return new Settings(values, Map.of(), "inline settings");
  }

  /** Environment variable that overrides {@code key}. */
  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private String raw(String key) {
    String e = env.get(envName(key));
    return e != null ? e.trim() : values.get(key);
  }

  public boolean has(String key) {
    return raw(key) != null;
  }

  public String string(String key, String dflt) {
    String v = raw(key);
    return v == null || v.isEmpty() ? dflt : v;
  }

  public String required(String key) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      throw new ConfigException("missing config " + key + " (set it in " + source + " or as " + envName(key) + ")");
    }
    return v;
  }

  public int integer(String key, int dflt, int min, int max) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new ConfigException("config " + key + " must be a whole number, got '" + v + "'");
    }
    if (n < min || n > max) {
      throw new ConfigException("config " + key + " must be between " + min + " and " + max + ", got " + n);
    }
    return n;
  }

  public double decimal(String key, double dflt, double min, double max) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    double d;
    try {
      d = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new ConfigException("config " + key + " must be a number, got '" + v + "'");
    }
    if (!(d >= min && d <= max)) {
      throw new ConfigException("config " + key + " must be between " + min + " and " + max + ", got " + v);
    }
    return d;
  }

  public boolean bool(String key, boolean dflt) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new ConfigException("config " + key + " must be true or false, got '" + v + "'");
    };
  }

  /** A duration written as {@code 250ms}, {@code 30s}, {@code 5m} or {@code 2h}. */
  public Duration duration(String key, Duration dflt) {
    String v = raw(key);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    var m = java.util.regex.Pattern.compile("(\\d+)\\s*(ms|s|m|h)").matcher(v.trim());
    if (!m.matches()) {
      throw new ConfigException("config " + key + " must be a duration like 250ms, 30s, 5m or 2h, got '" + v + "'");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  /** Every key under {@code prefix.} with the prefix removed, e.g. pass-through Kafka client settings. */
  public Map<String, String> withPrefix(String prefix) {
    String p = prefix.endsWith(".") ? prefix : prefix + ".";
    Map<String, String> out = new TreeMap<>();
    values.forEach((k, v) -> {
      if (k.startsWith(p)) {
        out.put(k.substring(p.length()), raw(k));
      }
    });
    return out;
  }

  /** Every key starting with {@code prefix}, prefix kept, environment overrides applied. */
  public Map<String, String> section(String prefix) {
    Map<String, String> out = new TreeMap<>();
    values.keySet().stream().filter(k -> k.startsWith(prefix)).forEach(k -> out.put(k, raw(k)));
    return out;
  }

  public String source() {
    return source;
  }
}
