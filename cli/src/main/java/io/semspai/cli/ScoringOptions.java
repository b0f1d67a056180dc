package io.semspai.cli;

import io.semspai.perturb.PerturbationPipeline;
import picocli.CommandLine.Option;

/** {@code --perturb}, {@code --seed} and {@code --in-flight}: how {@code infer} and {@code eval} feed the scorer. */
final class ScoringOptions {
  @Option(names = "--perturb", paramLabel = "SPEC",
      description = "Perturb every image before scoring, e.g. jpeg=75,scale=0.5 (kinds: jpeg, webp, blur, noise, "
          + "scale, crop, rcrop; applied in upstream's order).")
  String perturb;

  @Option(names = "--seed", defaultValue = "0",
      description = "Base seed of random perturbations (noise, rcrop); each image's seed derives from it and its "
          + "image cell (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--in-flight", defaultValue = "0", paramLabel = "N",
      description = "Images loaded or being scored at once (default: twice the engine's batch, 8 to 128).")
  int inFlight;

  /** The parsed {@code --perturb} (identity when absent); a bad spec is a one-line user error. */
  PerturbationPipeline pipeline() {
    try {
      return PerturbationPipeline.parse(perturb);
    } catch (IllegalArgumentException e) {
      throw new UserError("--perturb: " + e.getMessage());
    }
  }

  /** {@code --in-flight}, checked; 0 means the scorer's default. */
  int inFlight() {
    if (inFlight < 0) {
      throw new UserError("--in-flight must be positive, got " + inFlight);
    }
    return inFlight;
  }
}
