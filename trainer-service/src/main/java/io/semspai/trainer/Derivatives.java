package io.semspai.trainer;

import io.semspai.image.RgbImage;
import io.semspai.perturb.Augmentation;
import io.semspai.perturb.PerturbationPipeline;
import io.semspai.perturb.Seeds;
import java.util.ArrayList;
import java.util.List;

/**
 * Which derivative copies of an image the head trains and is judged on: the one rule that the trainer service and
 * {@code semspai train-head} both follow. A training image gets {@code k} copies of {@link Augmentation#DEFAULT}
 * (JPEG, rescale, blur, crop), seeded by its sha256 and the training seed; a holdout image gets one copy seeded by its
 * sha256 and a fixed seed, so every run, with any training seed, judges on the same perturbed holdout.
 *
 * <p>The copies depend on nothing but the image's sha256 and these settings, so a caller can tell which derivative
 * features it already holds before fetching the image. The first {@code k} copies stay the same when {@code k}
 * grows, so raising {@code k} computes only the new ones.
 *
 * @param k derivative copies per training image (0: none)
 * @param seed base seed of the training copies
 */
public record Derivatives(Augmentation augmentation, int k, long seed) {
  /** Base seed of the perturbed holdout's copies: fixed, so every run judges on the same images. */
  public static final long HOLDOUT_SEED = 0x401DL;
  /** Default copies per training image. */
  public static final int DEFAULT_K = 2;

  /** No training copies; holdout images still get theirs from {@link #forHoldout}. */
  public static final Derivatives NONE = new Derivatives(Augmentation.DEFAULT, 0, 0);

  public Derivatives {
    if (k < 0) {
      throw new IllegalArgumentException("derivative copies per training image must be >= 0, got " + k);
    }
  }

  /** {@code k} copies of {@link Augmentation#DEFAULT} per training image. */
  public static Derivatives of(int k, long seed) {
    return new Derivatives(Augmentation.DEFAULT, k, seed);
  }

  /**
   * One derivative copy of an image.
   *
   * @param variant the perturbation's canonical spec (e.g. {@code jpeg=73}): with the image's sha256 it names the
   *     copy's features
   * @param imageSeed the seed the pipeline is applied with
   */
  public record Copy(String variant, PerturbationPipeline pipeline, long imageSeed) {
    public RgbImage apply(RgbImage image) {
      return pipeline.apply(image, imageSeed).image();
    }
  }

  /** The {@code k} copies of a training image. */
  public List<Copy> forTraining(String sha256) {
    return copies(augmentation, k, seed, sha256);
  }

  /** The one copy of a holdout image. */
  public List<Copy> forHoldout(String sha256) {
    return copies(augmentation, 1, HOLDOUT_SEED, sha256);
  }

  /** The copies of an image in the holdout ({@link #forHoldout}) or in training ({@link #forTraining}). */
  public List<Copy> of(String sha256, boolean holdout) {
    return holdout ? forHoldout(sha256) : forTraining(sha256);
  }

  private static List<Copy> copies(Augmentation a, int k, long baseSeed, String sha256) {
    long s = Seeds.forImage(baseSeed, sha256);
    List<Copy> out = new ArrayList<>(k);
    for (PerturbationPipeline p : a.copies(k, s)) {
      out.add(new Copy(p.spec(), p, s));
    }
    return out;
  }
}
