package io.semspai.config;

/** A setting is missing or malformed; the message names the key and how to set it. */
public final class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
