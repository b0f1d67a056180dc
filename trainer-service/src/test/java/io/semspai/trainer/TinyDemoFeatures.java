package io.semspai.trainer;

import io.semspai.demo.DemoImages;
import io.semspai.engine.BatchModel;
import io.semspai.engine.ModelOutput;
import io.semspai.fusion.SemSpaiBundles;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.image.RgbImage;
import io.semspai.perturb.Augmentation;
import io.semspai.perturb.PerturbationPipeline;
import io.semspai.perturb.Seeds;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Frozen features of the demo's two image kinds from a tiny random-init Sem-SPAI model, computed once per JVM and
 * shared by the trainer's tests: {@link DemoImages.Kind#CAMERA} is the real class (0), {@link
 * DemoImages.Kind#UPSAMPLED} the "AI" class (1). The tiny backbones are random, but the classes differ in their
 * spectra (the upsampled kind carries a 2× checkerboard), and the features keep enough of that for a linear model to
 * separate them (a cross-validated logistic regression on these 152 numbers reaches AUC ≈ 1.0).
 */
final class TinyDemoFeatures {
  static final int PER_CLASS = 150;
  static final int SIZE = 224;
  static final long PERTURB_SEED = 77;

  private static TinyDemoFeatures instance;

  final Path bundle;
  final SemSpaiModel model;
  /** All images, in generation order. */
  final List<TrainingExample> examples;
  /** The images whose sha256 falls in the holdout bucket ({@link Holdout#inBucket}). */
  final List<TrainingExample> holdout;
  /** One derivative of each holdout image ({@link Augmentation#DEFAULT}, seeded by the image), same order. */
  final List<TrainingExample> perturbedHoldout;
  /** The others. */
  final List<TrainingExample> pool;

  private TinyDemoFeatures(Path bundle, SemSpaiModel model, List<TrainingExample> examples,
      List<TrainingExample> perturbedHoldout) {
    this.bundle = bundle;
    this.model = model;
    this.examples = examples;
    this.holdout = examples.stream().filter(e -> Holdout.inBucket(e.key())).toList();
    this.pool = examples.stream().filter(e -> !Holdout.inBucket(e.key())).toList();
    this.perturbedHoldout = perturbedHoldout;
  }

  static synchronized TinyDemoFeatures get() {
    if (instance == null) {
      try {
        Path dir = Files.createTempDirectory("semspai-headtrain-tiny");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
        // resize:224 on 224² images: one SPAI patch per image and the same pixels (a 224 axis is not resampled),
        // five times cheaper than native's five-crop of identical crops
        Path bundle = SemSpaiBundles.writeRandom(dir.resolve("tiny"), SemSpaiBundles.Preset.named("tiny"), 11,
            "semspai-tiny-test", "0.1.0", "resize:224");
        SemSpaiModel model = SemSpaiModel.load(bundle);
        List<RgbImage> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < PER_CLASS; i++) {
          for (DemoImages.Kind kind : DemoImages.Kind.values()) {
            images.add(DemoImages.generate(kind, SIZE, SIZE, 1000 + i));
            labels.add(kind == DemoImages.Kind.UPSAMPLED ? 1 : 0);
          }
        }
        List<TrainingExample> xs = features(model, images, labels, null);
        List<RgbImage> perturbed = new ArrayList<>();
        List<Integer> perturbedLabels = new ArrayList<>();
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
          String key = xs.get(i).key();
          if (Holdout.inBucket(key)) {
            long seed = Seeds.forImage(PERTURB_SEED, key);
            PerturbationPipeline p = Augmentation.DEFAULT.copies(1, seed).get(0);
            perturbed.add(p.apply(images.get(i), seed).image());
            perturbedLabels.add(labels.get(i));
            specs.add(key + "|" + p.spec());
          }
        }
        List<TrainingExample> px = features(model, perturbed, perturbedLabels, specs);
        instance = new TinyDemoFeatures(bundle, model, List.copyOf(xs), List.copyOf(px));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return instance;
  }

  /** Features in batches of 32; {@code variants} null for clean images, else "key|spec" per image. */
  private static List<TrainingExample> features(SemSpaiModel model, List<RgbImage> images, List<Integer> labels,
      List<String> variants) {
    List<TrainingExample> out = new ArrayList<>();
    for (int from = 0; from < images.size(); from += 32) {
      int to = Math.min(images.size(), from + 32);
      List<BatchModel.Prepared> batch = new ArrayList<>();
      for (int i = from; i < to; i++) {
        batch.add(model.prepare(images.get(i)));
      }
      List<ModelOutput> outs = model.run(batch, 32, null);
      for (int i = from; i < to; i++) {
        ModelOutput o = outs.get(i - from);
        if (variants == null) {
          out.add(TrainingExample.of(sha256(images.get(i)), o.spectralFeature(), o.semanticFeature(), labels.get(i)));
        } else {
          String[] kv = variants.get(i).split("\\|", 2);
          out.add(new TrainingExample(kv[0], o.spectralFeature(), o.semanticFeature(), labels.get(i), 1.0, kv[1]));
        }
      }
    }
    return out;
  }

  private static void deleteTree(Path dir) {
    try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp folder left behind is harmless
    }
  }

  static String sha256(RgbImage img) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(img.rgb()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
