package io.semspai.bundle;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A bundle that cannot be used, with what is wrong: {@code bundle /x: component spai: sha256 mismatch (expected
 * …, got …)}. {@link #component()} is null when the problem is with the bundle as a whole (its manifest).
 */
public final class BundleException extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient Path bundle;
  private final String component;
  private final String reason;

  public BundleException(Path bundle, String component, String reason) {
    this(bundle, component, reason, null);
  }

  public BundleException(Path bundle, String component, String reason, Throwable cause) {
    super("bundle " + bundle + ": " + (component == null ? "" : "component " + component + ": ") + reason, cause);
    this.bundle = bundle;
    this.component = component;
    this.reason = reason;
  }

  public Path bundle() {
    return bundle;
  }

  public String component() {
    return component;
  }

  public String reason() {
    return reason;
  }
}
