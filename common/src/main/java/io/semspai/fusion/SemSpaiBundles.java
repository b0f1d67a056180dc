package io.semspai.fusion;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.BundleWriter;
import io.semspai.semantic.ConvNextConfig;
import io.semspai.semantic.ConvNextModel;
import io.semspai.semantic.ConvNextRandomInit;
import io.semspai.spai.SpaiBundles;
import io.semspai.spai.SpaiConfig;
import io.semspai.spai.SpaiInputPolicy;
import io.semspai.spai.SpaiModel;
import io.semspai.spai.SpaiRandomInit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Creates Sem-SPAI bundles: {@code spai}, {@code convnext} and {@code head} components, the default {@code mode}
 * and the threshold profiles.
 *
 * <pre>
 * manifest.json          "mode": "fusion", "thresholds": {…}, components spai / convnext / head
 * spai.safetensors       upstream SPAI keys                 (tiny 1.4 MB, full 531 MB)
 * convnext.safetensors   OpenCLIP keys visual.trunk.*        (tiny 0.3 MB, full 3.37 GB)
 * head.safetensors       Sem-SPAI head keys                  (tiny 26 KB, full 9.2 MB)
 * </pre>
 */
public final class SemSpaiBundles {
  private SemSpaiBundles() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The sizes of one preset: SPAI, ConvNeXt and a head that fits both. */
  public record Preset(SpaiConfig spai, ConvNextConfig convnext, FusionConfig head) {
    public static Preset named(String name) {
      return new Preset(SpaiConfig.preset(name), ConvNextConfig.preset(name), FusionConfig.preset(name));
    }

    public Preset {
      if (!head.fits(spai, convnext)) {
        throw new IllegalArgumentException("fusion head " + head + " does not fit SPAI " + spai.featureDim()
            + " / ConvNeXt " + convnext.featureDim());
      }
    }
  }

  /**
   * Writes a bundle of seeded random weights to {@code out}, atomically, one tensor at a time (the full preset's
   * 3.4 GB ConvNeXt needs no more heap than its largest tensor). SPAI's weights are those of
   * {@link SpaiBundles#writeRandom} for the same seed; the head has Sem-SPAI's own initialisation. Thresholds are
   * 0.5 / 0.5 and marked uncalibrated: a random bundle detects nothing.
   *
   * @param inputPolicy the SPAI input policy to record ({@code native}, {@code native_grid}, {@code resize:N})
   */
  public static Path writeRandom(Path out, Preset preset, long seed, String name, String version, String inputPolicy)
      throws IOException {
    SpaiInputPolicy.parse(inputPolicy, preset.spai().patch()); // refuse a bad policy before writing gigabytes
    BundleManifest.Provenance provenance = BundleManifest.Provenance.randomInit(seed);
    try (BundleWriter w = new BundleWriter(out, name, version)) {
      w.putManifestField(SemSpaiModel.MODE_FIELD, TextNode.valueOf(SemSpaiModel.Mode.FUSION.json()));
      w.putManifestField(ThresholdProfiles.FIELD, ThresholdProfiles.uncalibrated(ThresholdProfiles.Score.FUSED,
          "random-init bundle: placeholders, not calibrated").toJson());
      try (BundleWriter.ComponentWriter c = w.component(SpaiModel.COMPONENT, SpaiModel.FILE,
          SpaiBundles.architecture(preset.spai()), Map.of(SpaiModel.INPUT_POLICY, inputPolicy), provenance,
          SpaiRandomInit.specs(preset.spai()), Map.of("format", "pt", "source", provenance.source()))) {
        SpaiRandomInit.write(preset.spai(), seed, c.tensors());
        c.finish();
      }
      try (BundleWriter.ComponentWriter c = w.component(ConvNextModel.COMPONENT, ConvNextModel.FILE,
          JSON.valueToTree(preset.convnext()), Map.of(), provenance, ConvNextRandomInit.specs(preset.convnext()),
          Map.of("format", "pt", "source", provenance.source()))) {
        ConvNextRandomInit.write(preset.convnext(), seed, c.tensors());
        c.finish();
      }
      HeadBundle.writeComponent(w, preset.head(), FusionHead.initialState(preset.head(), seed), provenance);
      return w.commit();
    }
  }
}
