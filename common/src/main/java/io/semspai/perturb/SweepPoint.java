package io.semspai.perturb;

/** One evaluated strength of a sweep: the swept operation and the full pipeline it runs in. */
public record SweepPoint(PerturbationKind kind, Perturbation perturbation, PerturbationPipeline pipeline) {
  public double strength() {
    return perturbation.strength();
  }

  /** {@code jpeg=75}. */
  public String label() {
    return perturbation.spec();
  }

  /** A folder name for the point's derivatives: {@code jpeg_75}, {@code scale_0.5}. */
  public String slug() {
    return kind.key() + "_" + Specs.format(perturbation.strength());
  }
}
