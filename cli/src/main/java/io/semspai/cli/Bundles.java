package io.semspai.cli;

import io.semspai.bundle.BundleException;
import io.semspai.bundle.ModelBundle;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.spai.SpaiModel;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens bundles for commands, turning refusals into one-line user errors. */
final class Bundles {
  private Bundles() {}

  static ModelBundle open(Path dir) {
    if (Files.isRegularFile(dir)) {
      throw new UserError("bundle " + dir + " is a file; unpack an archive first with `semspai model unpack "
          + dir + " --out DIR`");
    }
    try {
      return ModelBundle.open(dir);
    } catch (BundleException e) {
      throw new UserError(e.getMessage());
    }
  }

  static SemSpaiModel load(Path dir, SemSpaiModel.Mode mode, io.semspai.nn.Placement placement) {
    ModelBundle b = open(dir);
    try {
      return SemSpaiModel.load(b, mode, placement);
    } catch (BundleException e) {
      throw new UserError(e.getMessage());
    }
  }

  static SpaiModel loadSpai(Path dir, io.semspai.nn.Placement placement) {
    ModelBundle b = open(dir);
    try {
      return SpaiModel.load(b, placement);
    } catch (BundleException e) {
      throw new UserError(e.getMessage());
    }
  }
}
