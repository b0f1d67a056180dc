package io.semspai.spai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.BundleWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Creates SPAI bundles. */
public final class SpaiBundles {
  private SpaiBundles() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  public static JsonNode architecture(SpaiConfig cfg) {
    return JSON.valueToTree(cfg);
  }

  /**
   * Writes a bundle of seeded random weights ({@link SpaiRandomInit}) to {@code out}, atomically. Streams one
   * tensor at a time, so the full preset (~530 MB) needs no more heap than its largest tensor.
   */
  public static Path writeRandom(Path out, SpaiConfig cfg, long seed, String name, String version)
      throws IOException {
    try (BundleWriter w = new BundleWriter(out, name, version)) {
      try (BundleWriter.ComponentWriter c = w.component(
          SpaiModel.COMPONENT,
          SpaiModel.FILE,
          architecture(cfg),
          Map.of(SpaiModel.INPUT_POLICY, "native"),
          BundleManifest.Provenance.randomInit(seed),
          SpaiRandomInit.specs(cfg),
          Map.of("format", "pt", "source", "random-init, seed " + seed))) {
        SpaiRandomInit.write(cfg, seed, c.tensors());
        c.finish();
      }
      return w.commit();
    }
  }
}
