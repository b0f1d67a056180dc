package io.semspai.eval;

import java.net.URI;
import java.nio.file.Path;

/** Where a CSV row's image lives: a file (resolved against the CSV root) or an http(s) URL for the intake to fetch. */
public sealed interface ImageRef permits ImageRef.LocalFile, ImageRef.Remote {
  /** The path or URL as a person would type it. */
  String display();

  record LocalFile(Path path) implements ImageRef {
    @Override
    public String display() {
      return path.toString();
    }
  }

  record Remote(URI uri) implements ImageRef {
    @Override
    public String display() {
      return uri.toString();
    }
  }
}
