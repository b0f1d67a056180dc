package io.semspai.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import io.semspai.eval.Metrics;
import io.semspai.eval.MetricValue;
import io.semspai.eval.ThresholdRule;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.FusionHead;
import io.semspai.fusion.ThresholdProfiles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Retrains Sem-SPAI's fusion head on frozen features, starting from the champion's weights. Features are inputs:
 * the backbones are not involved, so they cannot change.
 *
 * <ul>
 *   <li>Loss: BCE with logits, each example weighted by class balance × its importance weight (see
 *       {@link #weights}); the weights are normalised to mean 1 over the training set, so the learning rate means
 *       what it does unweighted.
 *   <li>Optimiser: DJL's AdamW (decoupled weight decay), betas (0.9, 0.999), eps 1e-8, weight decay 0.05 on
 *       matrices and none on biases and the LayerNorm (upstream's {@code spai.yaml}); an optional linear warmup,
 *       then a per-step cosine decay from the learning rate to 2.5e-7 over {@code maxEpochs} (timm's schedule).
 *   <li>Dropout (p = 0.5 after every hidden layer) is live during training steps; every evaluation runs in eval
 *       mode.
 *   <li>Early stopping: after each epoch the head is scored on the validation split; the epoch with the lowest
 *       validation loss is kept (upstream saved its checkpoint the same way), and training stops after
 *       {@code patience} epochs without an improvement of at least {@code minDelta}.
 *   <li>Calibration: the chosen head's logit is Platt-scaled on the validation split and the scaling folded into
 *       its last layer ({@link LogitCalibration}); then its threshold profiles are recalibrated on the same split
 *       ({@link ThresholdCalibration}).
 *   <li>Validation: given explicitly, or split off by {@link #split} (seeded, stratified by class, by image key).
 *       Only clean images validate; augmented copies of validation images are dropped.
 *   <li>Determinism: the split, the minibatch order (a seeded shuffle per epoch) and dropout (libtorch's generator,
 *       seeded at the start) all follow {@code seed}, so the same inputs and options give the same weights, bit for
 *       bit, on the same machine and thread count. Trainings in one JVM run one at a time so none reseeds another's
 *       dropout.
 * </ul>
 *
 * <p>Whether the result replaces the champion is {@link HeadComparison}'s decision, on the holdout.
 */
public final class HeadTrainer {
  /** libtorch's generator is global: one training at a time per JVM keeps dropout reproducible. */
  private static final Object LOCK = new Object();

  private HeadTrainer() {}

  /**
   * Training settings. {@link #defaults()}: AdamW with upstream's betas, eps and weight decay 0.05; learning rate
   * 1e-3 and batch 32 (upstream Sem-SPAI: 5e-4 at batch 256 for 10 epochs of 27,000 images, about 1,000 steps; a
   * retrain on a few hundred labels gets only a few steps per epoch at that batch size, so the batch is smaller and
   * the rate higher); no warmup (Sem-SPAI's {@code WARMUP_EPOCHS 0}); 20 to 100 epochs, patience 10; 20% of each
   * class validates; classes balanced; logits Platt-scaled; recalibration at 5% and 1%.
   *
   * @param seed the split, the shuffles and dropout
   * @param maxEpochs at most this many passes over the training set
   * @param minEpochs early stopping cannot end training before this epoch: a head started from small random weights
   *     sits on a plateau near loss ln 2 for a while before it learns
   * @param patience stop after this many epochs without a validation-loss improvement
   * @param minDelta an improvement smaller than this does not count
   * @param batchSize examples per step
   * @param learningRate peak learning rate
   * @param minLearningRate warmup start and cosine floor (upstream 2.5e-7)
   * @param warmupEpochs linear warmup from {@code minLearningRate} (SPAI: 5 epochs, Sem-SPAI: 0)
   * @param weightDecay AdamW's decoupled decay on matrices (upstream 0.05)
   * @param validationFraction share of each class's images split off for validation when none is given
   * @param classBalance weight the classes equally (after importance weights); off, the importance weights alone
   *     set the label mix
   * @param calibrateLogits Platt-scale the chosen head's logit on the validation split, folded into its last layer
   *     ({@link LogitCalibration}); ranking is unchanged
   * @param balancedRate target FPR (and AI miss rate) of the recalibrated {@code balanced} profile
   * @param strictRate the same for {@code strict}
   */
  public record Options(long seed, int maxEpochs, int minEpochs, int patience, double minDelta, int batchSize,
      double learningRate, double minLearningRate, int warmupEpochs, double weightDecay, double validationFraction,
      boolean classBalance, boolean calibrateLogits, double balancedRate, double strictRate) {
    public Options {
      if (maxEpochs < 1 || patience < 1 || batchSize < 1 || warmupEpochs < 0 || !(minDelta >= 0) || minEpochs < 0
          || minEpochs > maxEpochs) {
        throw new IllegalArgumentException("training needs maxEpochs, patience and batchSize >= 1, 0 <= minEpochs <= "
            + "maxEpochs, warmupEpochs and minDelta >= 0");
      }
      if (!(learningRate > 0) || !(minLearningRate >= 0) || minLearningRate > learningRate || !(weightDecay >= 0)) {
        throw new IllegalArgumentException("need 0 <= minLearningRate <= learningRate, learningRate > 0 and "
            + "weightDecay >= 0, got " + minLearningRate + ", " + learningRate + ", " + weightDecay);
      }
      if (!(validationFraction > 0 && validationFraction < 1)) {
        throw new IllegalArgumentException("validationFraction must be in (0,1), got " + validationFraction);
      }
      if (!(balancedRate > 0 && balancedRate < 1 && strictRate > 0 && strictRate <= balancedRate)) {
        throw new IllegalArgumentException("need 0 < strictRate <= balancedRate < 1, got " + strictRate + ", "
            + balancedRate);
      }
    }

    public static Options defaults() {
      return new Options(0, 100, 20, 10, 1e-4, 32, 1e-3, 2.5e-7, 0, 0.05, 0.2, true, true,
          ThresholdCalibration.DEFAULT_BALANCED_RATE, ThresholdCalibration.DEFAULT_STRICT_RATE);
    }

    public Options withSeed(long s) {
      return new Options(s, maxEpochs, minEpochs, patience, minDelta, batchSize, learningRate, minLearningRate,
          warmupEpochs, weightDecay, validationFraction, classBalance, calibrateLogits, balancedRate, strictRate);
    }

    /** At most {@code max} epochs (and at least {@code min(minEpochs, max)}), stopping after {@code pat} idle ones. */
    public Options withEpochs(int max, int pat) {
      return new Options(seed, max, Math.min(minEpochs, max), pat, minDelta, batchSize, learningRate,
          minLearningRate, warmupEpochs, weightDecay, validationFraction, classBalance, calibrateLogits, balancedRate,
          strictRate);
    }

    public Options withBatchSize(int b) {
      return new Options(seed, maxEpochs, minEpochs, patience, minDelta, b, learningRate, minLearningRate,
          warmupEpochs, weightDecay, validationFraction, classBalance, calibrateLogits, balancedRate, strictRate);
    }

    public Options withLearningRate(double lr) {
      return new Options(seed, maxEpochs, minEpochs, patience, minDelta, batchSize, lr, Math.min(minLearningRate, lr),
          warmupEpochs, weightDecay, validationFraction, classBalance, calibrateLogits, balancedRate, strictRate);
    }

    public Options withWarmupEpochs(int w) {
      return new Options(seed, maxEpochs, minEpochs, patience, minDelta, batchSize, learningRate, minLearningRate, w,
          weightDecay, validationFraction, classBalance, calibrateLogits, balancedRate, strictRate);
    }

    public Options withValidationFraction(double f) {
      return new Options(seed, maxEpochs, minEpochs, patience, minDelta, batchSize, learningRate, minLearningRate,
          warmupEpochs, weightDecay, f, classBalance, calibrateLogits, balancedRate, strictRate);
    }

    public Options withClassBalance(boolean b) {
      return new Options(seed, maxEpochs, minEpochs, patience, minDelta, batchSize, learningRate, minLearningRate,
          warmupEpochs, weightDecay, validationFraction, b, calibrateLogits, balancedRate, strictRate);
    }

    public Options withCalibrateLogits(boolean c) {
      return new Options(seed, maxEpochs, minEpochs, patience, minDelta, batchSize, learningRate, minLearningRate,
          warmupEpochs, weightDecay, validationFraction, classBalance, c, balancedRate, strictRate);
    }

    public Options withRates(double balanced, double strict) {
      return new Options(seed, maxEpochs, minEpochs, patience, minDelta, batchSize, learningRate, minLearningRate,
          warmupEpochs, weightDecay, validationFraction, classBalance, calibrateLogits, balanced, strict);
    }
  }

  /** Told after every epoch (epoch 0 included); may throw to abort the training. */
  @FunctionalInterface
  public interface Listener {
    void epoch(TrainingResult.EpochStats stats);
  }

  /** A training/validation split: validation holds clean images only. */
  public record Split(List<TrainingExample> train, List<TrainingExample> validation, int droppedAugmented) {}

  /**
   * Splits off a validation set, by image: the keys of each class are sorted, shuffled with {@code seed} and the
   * first {@code round(fraction × n)} of them (at least one when the class has two or more images) validate. The
   * clean examples of those images form the validation set; their augmented copies are dropped so that no
   * derivative of a validation image is trained on. Every other example trains. The result does not depend on the
   * order of {@code examples}.
   */
  public static Split split(List<TrainingExample> examples, double fraction, long seed) {
    Map<String, Integer> labelOf = new TreeMap<>();
    for (TrainingExample e : examples) {
      Integer prev = labelOf.putIfAbsent(e.key(), e.label());
      if (prev != null && prev != e.label()) {
        throw new IllegalArgumentException("image " + e.key() + " has examples labelled both 0 and 1");
      }
    }
    java.util.Set<String> validationKeys = new java.util.HashSet<>();
    for (int cls = 0; cls <= 1; cls++) {
      List<String> keys = new ArrayList<>();
      for (Map.Entry<String, Integer> e : labelOf.entrySet()) {
        if (e.getValue() == cls) {
          keys.add(e.getKey());
        }
      }
      shuffle(keys, new SplittableRandom(mix(seed, 0x5B117 + cls)));
      // at least one image validates and at least one trains, when the class has two
      int n = keys.size() < 2 ? 0 : Math.min(keys.size() - 1, Math.max(1, (int) Math.round(fraction * keys.size())));
      validationKeys.addAll(keys.subList(0, n));
    }
    List<TrainingExample> train = new ArrayList<>();
    List<TrainingExample> validation = new ArrayList<>();
    int dropped = 0;
    for (TrainingExample e : examples) {
      if (!validationKeys.contains(e.key())) {
        train.add(e);
      } else if (e.isAugmented()) {
        dropped++;
      } else {
        validation.add(e);
      }
    }
    return new Split(train, validation, dropped);
  }

  /**
   * Per-example loss weights: importance × class weight, normalised to mean 1. With {@code classBalance} each class's
   * weight is {@code W / (2 W_c)}, where {@code W_c} is the class's summed importance, so both classes carry the
   * same total weight and, within a class, examples keep the proportions their importance weights give them.
   */
  public static double[] weights(List<TrainingExample> examples, boolean classBalance) {
    double[] mass = new double[2];
    for (TrainingExample e : examples) {
      mass[e.label()] += e.importance();
    }
    double total = mass[0] + mass[1];
    double[] w = new double[examples.size()];
    double sum = 0;
    for (int i = 0; i < w.length; i++) {
      TrainingExample e = examples.get(i);
      double cls = classBalance && mass[e.label()] > 0 ? total / (2 * mass[e.label()]) : 1.0;
      w[i] = e.importance() * cls;
      sum += w[i];
    }
    for (int i = 0; i < w.length; i++) {
      w[i] *= w.length / sum;
    }
    return w;
  }

  /** Trains with a validation split made by {@link #split}. */
  public static TrainingResult train(Map<String, float[]> start, FusionConfig cfg, List<TrainingExample> examples,
      Options o) {
    return train(start, cfg, examples, o, null);
  }

  public static TrainingResult train(Map<String, float[]> start, FusionConfig cfg, List<TrainingExample> examples,
      Options o, Listener listener) {
    Split s = split(examples, o.validationFraction(), o.seed());
    return train(start, cfg, s.train(), s.validation(), s.droppedAugmented(), o, listener);
  }

  /**
   * Trains on {@code train}, early-stopping and recalibrating on {@code validation} (clean images; augmented ones
   * there are refused).
   *
   * @param start the champion's weights ({@code SemSpaiModel.headState()}), or any head state of {@code cfg}
   */
  public static TrainingResult train(Map<String, float[]> start, FusionConfig cfg, List<TrainingExample> train,
      List<TrainingExample> validation, Options o, Listener listener) {
    return train(start, cfg, train, validation, 0, o, listener);
  }

  private static TrainingResult train(Map<String, float[]> start, FusionConfig cfg, List<TrainingExample> train,
      List<TrainingExample> validation, int droppedAugmented, Options o, Listener listener) {
    check(train, validation, cfg);
    long t0 = System.nanoTime();
    double[] trainWeights = weights(train, o.classBalance());
    double[] valWeights = weights(validation, o.classBalance());
    int[] valLabels = validation.stream().mapToInt(TrainingExample::label).toArray();
    int n = train.size();
    int d = cfg.spectralDim();
    int sd = cfg.semanticDim();
    int stepsPerEpoch = (n + o.batchSize() - 1) / o.batchSize();
    long totalSteps = (long) stepsPerEpoch * o.maxEpochs();
    long warmupSteps = Math.min(totalSteps, (long) stepsPerEpoch * o.warmupEpochs());

    synchronized (LOCK) {
      Engine.getInstance().setRandomSeed((int) (o.seed() ^ (o.seed() >>> 32)));
      try (NDManager manager = io.semspai.nn.Placement.CPU.newManager()) {
        FusionHead head = FusionHead.of(cfg, start, manager);
        head.setTrainable(true);
        SettableRate rate = new SettableRate();
        Optimizer decayed = Optimizer.adamW().optLearningRateTracker(rate).optWeightDecays((float) o.weightDecay())
            .optBeta1(0.9f).optBeta2(0.999f).optEpsilon(1e-8f).build();
        Optimizer plain = Optimizer.adamW().optLearningRateTracker(rate).optWeightDecays(0f).optBeta1(0.9f)
            .optBeta2(0.999f).optEpsilon(1e-8f).build();
        Map<Parameter, Optimizer> optimizerOf = new LinkedHashMap<>();
        for (Parameter p : head.stateParameters().values()) {
          optimizerOf.put(p, p.getArray().getShape().dimension() >= 2 ? decayed : plain);
        }

        List<TrainingResult.EpochStats> curve = new ArrayList<>();
        long e0 = System.nanoTime();
        Eval first = evaluate(head, cfg, manager, validation, valLabels, valWeights);
        curve.add(new TrainingResult.EpochStats(0, Double.NaN, first.loss, first.auc, 0, millis(e0)));
        notify(listener, curve.get(0));

        Map<String, float[]> best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        int sinceBest = 0;
        boolean stoppedEarly = false;
        long step = 0;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
          order[i] = i;
        }
        for (int epoch = 1; epoch <= o.maxEpochs(); epoch++) {
          long es = System.nanoTime();
          SplittableRandom shuffle = new SplittableRandom(mix(o.seed(), epoch));
          for (int i = n - 1; i > 0; i--) {
            int j = shuffle.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
          }
          double lossSum = 0;
          for (int from = 0; from < n; from += o.batchSize()) {
            int b = Math.min(o.batchSize(), n - from);
            float[] sp = new float[b * d];
            float[] se = new float[b * sd];
            float[] y = new float[b];
            float[] w = new float[b];
            for (int i = 0; i < b; i++) {
              int k = order[from + i];
              TrainingExample e = train.get(k);
              System.arraycopy(e.spectral(), 0, sp, i * d, d);
              System.arraycopy(e.semantic(), 0, se, i * sd, sd);
              y[i] = e.label();
              w[i] = (float) trainWeights[k];
            }
            rate.value = (float) learningRate(step++, warmupSteps, totalSteps, o);
            try (NDManager bm = manager.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDArray logits = head.forward(null, bm.create(sp, new Shape(b, d)), bm.create(se, new Shape(b, sd)),
                  true).reshape(b);
              NDArray loss = weightedBce(logits, bm.create(y), bm.create(w)).div(b);
              gc.backward(loss);
              lossSum += loss.getFloat() * b;
              for (Map.Entry<Parameter, Optimizer> e : optimizerOf.entrySet()) {
                NDArray weight = e.getKey().getArray();
                e.getValue().update(e.getKey().getId(), weight, weight.getGradient());
              }
            }
          }
          Eval ev = evaluate(head, cfg, manager, validation, valLabels, valWeights);
          TrainingResult.EpochStats stats = new TrainingResult.EpochStats(epoch, lossSum / n, ev.loss, ev.auc,
              rate.value, millis(es));
          curve.add(stats);
          if (!Double.isFinite(ev.loss)) {
            throw new IllegalStateException("training diverged: validation loss " + ev.loss + " at epoch " + epoch);
          }
          if (best == null || ev.loss < bestLoss - o.minDelta()) {
            best = head.state();
            bestLoss = ev.loss;
            bestEpoch = epoch;
            sinceBest = 0;
          } else if (++sinceBest >= o.patience() && epoch >= o.minEpochs()) {
            stoppedEarly = epoch < o.maxEpochs();
            notify(listener, stats);
            break;
          }
          notify(listener, stats);
        }

        LogitCalibration.Fit fit = LogitCalibration.Fit.IDENTITY;
        if (o.calibrateLogits()) {
          try (HeadScorer bestHead = new HeadScorer(cfg, best)) {
            fit = LogitCalibration.fit(bestHead.logits(validation), valLabels, weights(validation, false));
          }
          best = LogitCalibration.fold(best, fit);
        }
        double[] scores = HeadScorer.scores(cfg, best, validation);
        ThresholdProfiles thresholds = ThresholdCalibration.calibrate(valLabels, scores, o.balancedRate(),
            o.strictRate());
        double tHigh = thresholds.balanced().tHigh();
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("stopping_loss", bestLoss);
        metrics.put("auc", v(Metrics.auroc(valLabels, scores)));
        metrics.put("ap", v(Metrics.averagePrecision(valLabels, scores)));
        metrics.put("ece", v(Metrics.expectedCalibrationError(valLabels, scores)));
        metrics.put("balanced_accuracy", v(Metrics.balancedAccuracy(valLabels, scores, tHigh,
            ThresholdRule.AT_OR_ABOVE)));
        metrics.put("fpr", v(Metrics.falsePositiveRate(valLabels, scores, tHigh, ThresholdRule.AT_OR_ABOVE)));

        return new TrainingResult(Collections.unmodifiableMap(best), List.copyOf(curve), bestEpoch, stoppedEarly,
            fit, Collections.unmodifiableMap(metrics), thresholds, counts(train, validation, droppedAugmented,
                trainWeights), o.seed(), Duration.ofNanos(System.nanoTime() - t0));
      }
    }
  }

  /** Sum over the batch of w · BCE-with-logits, in the stable form max(x,0) − x·y + log(1 + e^−|x|). */
  static NDArray weightedBce(NDArray logits, NDArray y, NDArray w) {
    NDArray loss = logits.maximum(0f).sub(logits.mul(y)).add(logits.abs().neg().exp().add(1f).log());
    return loss.mul(w).sum();
  }

  private record Eval(double loss, double auc) {}

  private static Eval evaluate(FusionHead head, FusionConfig cfg, NDManager manager,
      List<TrainingExample> validation, int[] labels, double[] weights) {
    float[] logits = HeadScorer.logits(head, cfg, manager, validation);
    double loss = 0;
    double[] scores = new double[logits.length];
    for (int i = 0; i < logits.length; i++) {
      double x = logits[i];
      loss += weights[i] * (Math.max(x, 0) - x * labels[i] + Math.log1p(Math.exp(-Math.abs(x))));
      scores[i] = HeadScorer.score(logits[i]);
    }
    return new Eval(loss / logits.length, v(Metrics.auroc(labels, scores)));
  }

  /** Linear warmup from the floor, then a cosine from the peak down to the floor (timm's per-step schedule). */
  static double learningRate(long step, long warmupSteps, long totalSteps, Options o) {
    double lo = o.minLearningRate();
    double hi = o.learningRate();
    if (step < warmupSteps) {
      return lo + (hi - lo) * step / warmupSteps;
    }
    long span = Math.max(1, totalSteps - warmupSteps);
    double t = Math.min(1.0, (double) (step - warmupSteps) / span);
    return lo + 0.5 * (hi - lo) * (1 + Math.cos(Math.PI * t));
  }

  private static void check(List<TrainingExample> train, List<TrainingExample> validation, FusionConfig cfg) {
    int[] tc = new int[2];
    for (TrainingExample e : train) {
      HeadScorer.checkWidths(e, cfg);
      tc[e.label()]++;
    }
    int[] vc = new int[2];
    for (TrainingExample e : validation) {
      HeadScorer.checkWidths(e, cfg);
      if (e.isAugmented()) {
        throw new IllegalArgumentException("validation example " + e.key() + " is an augmented copy (" + e.variant()
            + "); validation takes clean images only");
      }
      vc[e.label()]++;
    }
    if (tc[0] == 0 || tc[1] == 0 || vc[0] == 0 || vc[1] == 0) {
      throw new IllegalArgumentException("training needs real and AI images in both the training and the validation "
          + "set; got " + tc[0] + " real / " + tc[1] + " AI to train on and " + vc[0] + " real / " + vc[1]
          + " AI to validate on");
    }
  }

  private static TrainingResult.Counts counts(List<TrainingExample> train, List<TrainingExample> validation,
      int dropped, double[] w) {
    int[] tc = new int[2];
    double[] ws = new double[2];
    int aug = 0;
    for (int i = 0; i < train.size(); i++) {
      TrainingExample e = train.get(i);
      tc[e.label()]++;
      ws[e.label()] += w[i];
      aug += e.isAugmented() ? 1 : 0;
    }
    int[] vc = new int[2];
    validation.forEach(e -> vc[e.label()]++);
    return new TrainingResult.Counts(tc[0], tc[1], aug, vc[0], vc[1], dropped, ws[0] / tc[0], ws[1] / tc[1]);
  }

  private static void notify(Listener l, TrainingResult.EpochStats s) {
    if (l != null) {
      l.epoch(s);
    }
  }

  private static long millis(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  private static double v(MetricValue m) {
    return m.isDefined() ? m.value() : Double.NaN;
  }

  private static <T> void shuffle(List<T> list, SplittableRandom r) {
    for (int i = list.size() - 1; i > 0; i--) {
      Collections.swap(list, i, r.nextInt(i + 1));
    }
  }

  static long mix(long seed, long salt) {
    long z = seed * 0x9E3779B97F4A7C15L + salt;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The learning rate the trainer sets before each step, for both optimisers. */
  private static final class SettableRate implements ParameterTracker {
    volatile float value;

    @Override
    public float getNewValue(String parameterId, int numUpdate) {
      return value;
    }
  }
}
