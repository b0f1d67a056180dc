package io.semspai.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.semspai.bundle.BundleManifest;
import io.semspai.fusion.BackboneHashes;
import io.semspai.fusion.FusionConfig;
import io.semspai.fusion.HeadBundle;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained head as a head-only bundle ({@link HeadBundle}): the challenger's weights, its recalibrated
 * thresholds, the backbone hashes its features came from, and what a release needs to be judged later:
 *
 * <pre>
 * "parent_version": "0.1.0",
 * "holdout_version": "n=54;h=3fa1…",
 * "release": {
 *   "status": "PROMOTED" | "REJECTED",
 *   "parent": {"name": …, "version": …},
 *   "reasons": ["passed AUC 0.9986 vs floor 0.70", …],
 *   "holdout": {"version": …, "images": 54, "perturbed_images": 54, "champion_t_high": 0.5,
 *               "challenger_t_high": 0.63},
 *   "metrics": {"challenger": {"auc": …, "ap": …, "balanced_accuracy": …, "fpr_at_t_high": …, "ece": …,
 *               "perturbed_auc": …}, "champion": {…}},
 *   "training": {"seed": 1, "epochs_run": 51, "best_epoch": 41, "stopped_early": true, "elapsed_ms": 388,
 *                "train": {"real": …, "ai": …, "augmented": …}, "validation": {"real": …, "ai": …},
 *                "validation_metrics": {…}, "logit_calibration": {"scale": …, "shift": …}}
 * }
 * </pre>
 *
 * Undefined metrics are written as null. A REJECTED bundle is a record of what was tried, loadable like any other:
 * whoever swaps heads decides by the status.
 */
public final class HeadRelease {
  public static final String FIELD = "release";

  /** What the gate decided. */
  public enum Status { PROMOTED, REJECTED }

  private static final ObjectMapper JSON = new ObjectMapper();

  private HeadRelease() {}

  /**
   * Writes {@code out} atomically.
   *
   * @param trainedOn the champion model's backbone hashes ({@code SemSpaiModel.backboneHashes()})
   * @param holdoutVersion {@link Holdout#version} of the holdout the gate judged on
   */
  public static Path write(Path out, String name, String version, FusionConfig cfg, TrainingResult result,
      HeadComparison comparison, BackboneHashes trainedOn, String parentName, String parentVersion,
      String holdoutVersion) throws IOException {
    BundleManifest.Provenance provenance = new BundleManifest.Provenance("trained from " + parentName + " "
        + parentVersion + " on frozen features, seed " + result.seed(), result.seed(), null, null);
    return HeadBundle.write(out, name, version, cfg, result.state(), result.thresholds(), trainedOn, provenance,
        manifestFields(result, comparison, parentName, parentVersion, holdoutVersion));
  }

  /** The manifest fields {@link #write} adds, for a caller that writes the bundle itself. */
  public static Map<String, JsonNode> manifestFields(TrainingResult result, HeadComparison comparison,
      String parentName, String parentVersion, String holdoutVersion) {
    ObjectNode release = JSON.createObjectNode();
    release.put("status", (comparison.promoted() ? Status.PROMOTED : Status.REJECTED).name());
    release.putObject("parent").put("name", parentName).put("version", parentVersion);
    ArrayNode reasons = release.putArray("reasons");
    comparison.decision().reasons().forEach(reasons::add);
    ObjectNode holdout = release.putObject("holdout");
    holdout.put("version", holdoutVersion);
    holdout.put("images", comparison.clean().labels().length);
    holdout.put("perturbed_images", comparison.perturbed() == null ? 0 : comparison.perturbed().labels().length);
    holdout.put("champion_t_high", comparison.championTHigh());
    holdout.put("challenger_t_high", comparison.challengerTHigh());
    ObjectNode metrics = release.putObject("metrics");
    metrics.set("challenger", numbers(comparison.decision().challengerMetrics()));
    metrics.set("champion", numbers(comparison.decision().championMetrics()));
    ObjectNode training = release.putObject("training");
    training.put("seed", result.seed());
    training.put("epochs_run", result.epochsRun());
    training.put("best_epoch", result.bestEpoch());
    training.put("stopped_early", result.stoppedEarly());
    training.put("elapsed_ms", result.elapsed().toMillis());
    TrainingResult.Counts c = result.counts();
    training.putObject("train").put("real", c.trainReal()).put("ai", c.trainAi()).put("augmented", c.trainAugmented());
    training.putObject("validation").put("real", c.validationReal()).put("ai", c.validationAi());
    training.set("validation_metrics", numbers(result.validationMetrics()));
    training.putObject("logit_calibration").put("scale", result.logitCalibration().scale())
        .put("shift", result.logitCalibration().shift());
    Map<String, JsonNode> out = new LinkedHashMap<>();
    out.put("parent_version", TextNode.valueOf(parentVersion));
    out.put("holdout_version", TextNode.valueOf(holdoutVersion));
    out.put(FIELD, release);
    return out;
  }

  private static ObjectNode numbers(Map<String, Double> m) {
    ObjectNode n = JSON.createObjectNode();
    m.forEach((k, v) -> {
      if (v == null || !Double.isFinite(v)) {
        n.putNull(k);
      } else {
        n.put(k, v);
      }
    });
    return n;
  }
}
