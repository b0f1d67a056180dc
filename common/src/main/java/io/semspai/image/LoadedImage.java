package io.semspai.image;

import java.util.Objects;

/** An image fetched and decoded: the bytes with their SHA-256, and the pixels. */
public record LoadedImage(FetchedImage fetched, DecodedImage decoded) {
  public LoadedImage {
    Objects.requireNonNull(fetched, "fetched");
    Objects.requireNonNull(decoded, "decoded");
  }

  public RgbImage image() {
    return decoded.image();
  }
}
