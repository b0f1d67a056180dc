package io.semspai.engine;

import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.spai.SpaiModel;

/** Opens a model bundle as the {@link BatchModel} the engine serves. The one place that knows bundle layouts. */
public final class ServingModels {
  private ServingModels() {}

  public static BatchModel open(ModelBundle bundle) throws BundleException {
    BundleManifest m = bundle.manifest();
    return new SpectralBatchModel(SpaiModel.load(bundle), m.version());
  }

  /** sha256 of the backbone weights (the SPAI component): the key features are cached under. */
  public static String backboneSha256(ModelBundle bundle) throws BundleException {
    return bundle.component(SpaiModel.COMPONENT).sha256();
  }
}
