package io.semspai.engine;

import io.semspai.bundle.BundleException;
import io.semspai.bundle.ModelBundle;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.fusion.ThresholdProfile;
import io.semspai.fusion.ThresholdProfiles;
import io.semspai.nn.Placement;

/** Opens a model bundle for serving. The one place services turn a bundle into what the engine runs. */
public final class ServingModels {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ServingModels.class);

  private ServingModels() {}

  /**
   * A loaded model with what a service needs besides the network: its thresholds, the hash its features are
   * cached under, and its SPAI input policy.
   */
  public record Serving(SemSpaiModel model, ThresholdProfiles thresholds, String backboneSha256, String inputPolicy) {
    /** The named profile, or the uncalibrated 0.5/0.5 when the bundle lacks it. */
    public ThresholdProfile profile(String name) {
      ThresholdProfile p = thresholds.profiles().get(name);
      return p != null ? p : new ThresholdProfile(name, 0.5, 0.5);
    }
  }

  /** Loads a bundle in its default mode (fusion when it has the semantic components, else spectral). */
  public static Serving open(ModelBundle bundle) throws BundleException {
    return open(bundle, null);
  }

  public static Serving open(ModelBundle bundle, SemSpaiModel.Mode mode) throws BundleException {
    return open(bundle, mode, Placement.CPU);
  }

  /**
   * Loads a bundle onto a device and precision ({@link Placement#fromSettings} or the CLI's {@code --device} and
   * {@code --precision}); mode null for the bundle's default. Logs what it chose.
   */
  public static Serving open(ModelBundle bundle, SemSpaiModel.Mode mode, Placement placement)
      throws BundleException {
    SemSpaiModel m = SemSpaiModel.load(bundle, mode, placement);
    log.info("model {} {} loaded in {} mode on {} (SPAI's FFT in fp32)", m.name(), m.version(), m.mode().json(),
        placement.describe());
    try {
      return serving(m, bundle);
    } catch (BundleException | RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /** The serving view of a model already loaded (for example after a head swap). */
  public static Serving serving(SemSpaiModel m, ModelBundle bundle) throws BundleException {
    return new Serving(m, m.thresholds(), backboneKey(m, bundle), m.inputPolicy().spec());
  }

  /**
   * The key features are cached under: sha256 of the SPAI and ConvNeXt weight files' sha256s, or the SPAI file's
   * sha256 alone for a spectral-only bundle. A head swap keeps it, which is what lets the trainer reuse features.
   */
  static String backboneKey(SemSpaiModel m, ModelBundle bundle) throws BundleException {
    if (m.backboneHashes() != null) {
      return io.semspai.bundle.Sha256.of(m.backboneHashes().spai() + ":" + m.backboneHashes().convnext());
    }
    return bundle.component(io.semspai.spai.SpaiModel.COMPONENT).sha256();
  }
}
