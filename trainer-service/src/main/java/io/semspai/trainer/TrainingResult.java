package io.semspai.trainer;

import io.semspai.fusion.ThresholdProfiles;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What {@link HeadTrainer#train} produced.
 *
 * @param state the challenger's weights, by key: the epoch with the lowest validation loss (never the starting
 *     weights: epoch 0 is only measured, for comparison), Platt scaling folded in
 * @param curve one entry per epoch run, epoch 0 being the starting head before any update
 * @param bestEpoch the epoch {@code state} comes from (≥ 1)
 * @param stoppedEarly true when patience ran out before {@code maxEpochs}
 * @param logitCalibration the Platt scaling folded into {@code state} (identity when switched off)
 * @param validationMetrics the challenger on the validation split (clean images): {@code stopping_loss} (the
 *     class-balanced loss early stopping chose it by, before Platt scaling), {@code auc}, {@code ap}, {@code ece},
 *     {@code balanced_accuracy} and {@code fpr} at its recalibrated balanced t_high; NaN when undefined
 * @param thresholds the challenger's recalibrated profiles ({@link ThresholdCalibration}, on the validation split)
 * @param counts what was trained and validated on, and the class weights used
 * @param seed the seed of the split, the shuffles and dropout
 */
public record TrainingResult(Map<String, float[]> state, List<EpochStats> curve, int bestEpoch,
    boolean stoppedEarly, LogitCalibration.Fit logitCalibration, Map<String, Double> validationMetrics,
    ThresholdProfiles thresholds, Counts counts, long seed, Duration elapsed) {

  /**
   * One epoch.
   *
   * @param trainLoss mean weighted BCE over the epoch's minibatches, dropout on (NaN for epoch 0)
   * @param validationLoss weighted BCE on the validation split, eval mode
   * @param validationAuc AUC on the validation split
   * @param learningRate the learning rate of the epoch's last step (0 for epoch 0)
   */
  public record EpochStats(int epoch, double trainLoss, double validationLoss, double validationAuc,
      double learningRate, long millis) {}

  /**
   * @param trainReal real training examples, augmented copies included
   * @param trainAugmented augmented copies among the training examples
   * @param droppedAugmented augmented copies of validation images, used for neither training nor validation
   * @param realWeight the mean per-example weight of a real training example (class balance × importance,
   *     normalised so the mean over all training examples is 1); {@code aiWeight} likewise
   */
  public record Counts(int trainReal, int trainAi, int trainAugmented, int validationReal, int validationAi,
      int droppedAugmented, double realWeight, double aiWeight) {}

  /** The starting head's validation loss (epoch 0). */
  public double startValidationLoss() {
    return curve.get(0).validationLoss();
  }

  public int epochsRun() {
    return curve.size() - 1;
  }
}
