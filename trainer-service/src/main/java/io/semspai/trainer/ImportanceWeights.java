package io.semspai.trainer;

import java.util.HashMap;
import java.util.Map;

/**
 * Corrects the selection bias of feedback. People label what looks wrong, so feedback over-represents the model's
 * mistakes. Each (label, source) cell gets the weight
 *
 * <pre>  w(label, source) = share of the cell in the verdict stream / share of the cell in the feedback</pre>
 *
 * so that, after weighting, the labeled set has the stream's mix of labels and sources. The stream's cell is the
 * verdict's label (AI/REAL, UNCERTAIN split evenly between them) and its source platform; the feedback's cell is
 * the resolved label and source. Cells the stream never shows get the smallest observed weight rather than zero, and
 * weights are clipped to [{@code min}, {@code max}] so one rare cell cannot dominate a retrain.
 */
public final class ImportanceWeights {
  /** One (label, source) cell. */
  public record Cell(String label, String source) {}

  private final Map<Cell, Double> stream = new HashMap<>();
  private final Map<Cell, Double> feedback = new HashMap<>();
  private double streamTotal;
  private double feedbackTotal;
  private final double min;
  private final double max;

  public ImportanceWeights(double min, double max) {
    if (!(min > 0 && max >= min)) {
      throw new IllegalArgumentException("weight clip must satisfy 0 < min <= max, got " + min + ", " + max);
    }
    this.min = min;
    this.max = max;
  }

  public void countVerdict(String label, String source) {
    if ("UNCERTAIN".equals(label)) {
      stream.merge(new Cell("AI", norm(source)), 0.5, Double::sum);
      stream.merge(new Cell("REAL", norm(source)), 0.5, Double::sum);
    } else {
      stream.merge(new Cell(label, norm(source)), 1.0, Double::sum);
    }
    streamTotal++;
  }

  public void countFeedback(String label, String source) {
    feedback.merge(new Cell(label, norm(source)), 1.0, Double::sum);
    feedbackTotal++;
  }

  /** The weight of a labeled example in this cell; 1 when there is no stream to compare with. */
  public double weight(String label, String source) {
    Cell c = new Cell(label, norm(source));
    if (streamTotal == 0 || feedbackTotal == 0 || !feedback.containsKey(c)) {
      return 1.0;
    }
    double fs = feedback.get(c) / feedbackTotal;
    Double sc = stream.get(c);
    double w = sc == null ? min : (sc / streamTotal) / fs;
    return Math.max(min, Math.min(max, w));
  }

  private static String norm(String source) {
    return source == null ? "unknown" : source;
  }
}
