package io.semspai.trainer;

import io.semspai.eval.Metrics;
import io.semspai.eval.MetricValue;
import io.semspai.spai.SpaiResult;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Platt scaling of a head's logit, folded into its last layer: the calibrated logit is {@code a · logit + b},
 * again a linear layer ({@code classifier.3.weight × a}, {@code classifier.3.bias × a + b}), so the calibrated head
 * is a plain fusion head and the detector needs nothing new.
 *
 * <p>Why: a head trained with dropout 0.5 and stopped early on a small validation set ranks well but is often
 * under-confident (scores bunched towards 0.5), which the promotion gate's ECE check rightly counts against it.
 * {@code a > 0}, so the ranking (AUC, AP) is unchanged.
 *
 * <p>How: (a, b) minimise the importance-weighted BCE on the validation logits (logistic regression on one input)
 * by projected Newton steps on this convex two-parameter problem, with {@code a} kept in [{@value #MIN_SCALE},
 * {@value #MAX_SCALE}]: a perfectly separated validation set would otherwise drive it to infinity, and a large scale
 * saturates the float32 sigmoid, turning distinct scores into ties at 0 or 1. The fit is kept only when it lowers the
 * validation loss and leaves the validation AUC as it was (computed on the detector's float32 scores); otherwise the
 * identity is used.
 */
public final class LogitCalibration {
  static final double MIN_SCALE = 0.25;
  static final double MAX_SCALE = 4;

  /** {@code calibrated logit = scale · logit + shift}. */
  public record Fit(double scale, double shift) {
    public static final Fit IDENTITY = new Fit(1, 0);

    public double apply(double logit) {
      return scale * logit + shift;
    }
  }

  private LogitCalibration() {}

  public static Fit fit(float[] logits, int[] labels, double[] weights) {
    int n = logits.length;
    int pos = 0;
    for (int l : labels) {
      pos += l;
    }
    if (pos == 0 || pos == n) {
      return Fit.IDENTITY;
    }
    double a = 1;
    double b = 0;
    for (int iter = 0; iter < 200; iter++) {
      double[] g = new double[2];
      double[] h = new double[3];
      derivatives(logits, labels, weights, a, b, g, h);
      double det = h[0] * h[2] - h[1] * h[1];
      double na;
      double nb;
      if (det > 1e-12) {
        na = a - (h[2] * g[0] - h[1] * g[1]) / det;
        nb = b - (h[0] * g[1] - h[1] * g[0]) / det;
      } else {
        na = a;
        nb = b;
      }
      if (!(na >= MIN_SCALE && na <= MAX_SCALE)) {
        // at the bound: a stays there, b takes a Newton step of its own
        na = Math.max(MIN_SCALE, Math.min(MAX_SCALE, Double.isNaN(na) ? a : na));
        derivatives(logits, labels, weights, na, b, g, h);
        nb = h[2] > 1e-12 ? b - g[1] / h[2] : b;
      }
      // damp the step until the loss does not rise (Newton can overshoot far from the optimum)
      double before = loss(logits, labels, weights, a, b);
      for (int k = 0; k < 30 && loss(logits, labels, weights, na, nb) > before; k++) {
        na = (a + na) / 2;
        nb = (b + nb) / 2;
      }
      boolean done = Math.abs(na - a) < 1e-9 && Math.abs(nb - b) < 1e-9;
      a = na;
      b = nb;
      if (done) {
        break;
      }
    }
    if (!Double.isFinite(a) || !Double.isFinite(b)
        || !(loss(logits, labels, weights, a, b) < loss(logits, labels, weights, 1, 0))
        || auc(logits, labels, a, b) < auc(logits, labels, 1, 0)) {
      return Fit.IDENTITY;
    }
    return new Fit(a, b);
  }

  /** A copy of {@code state} whose logit is {@code fit.apply(old logit)}. */
  public static Map<String, float[]> fold(Map<String, float[]> state, Fit fit) {
    Map<String, float[]> out = new LinkedHashMap<>(state);
    float[] w = state.get("classifier.3.weight").clone();
    float[] bias = state.get("classifier.3.bias").clone();
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (w[i] * fit.scale());
    }
    for (int i = 0; i < bias.length; i++) {
      bias[i] = (float) (bias[i] * fit.scale() + fit.shift());
    }
    out.put("classifier.3.weight", w);
    out.put("classifier.3.bias", bias);
    return out;
  }

  /** Gradient (d/da, d/db) and Hessian (aa, ab, bb) of the weighted BCE at (a, b). */
  private static void derivatives(float[] x, int[] y, double[] w, double a, double b, double[] g, double[] h) {
    g[0] = g[1] = h[0] = h[1] = h[2] = 0;
    for (int i = 0; i < x.length; i++) {
      double p = sigmoid(a * x[i] + b);
      double r = w[i] * (p - y[i]);
      g[0] += r * x[i];
      g[1] += r;
      double s = w[i] * p * (1 - p);
      h[0] += s * x[i] * x[i];
      h[1] += s * x[i];
      h[2] += s;
    }
  }

  static double loss(float[] x, int[] y, double[] w, double a, double b) {
    double l = 0;
    for (int i = 0; i < x.length; i++) {
      double z = a * x[i] + b;
      l += w[i] * (Math.max(z, 0) - z * y[i] + Math.log1p(Math.exp(-Math.abs(z))));
    }
    return l;
  }

  private static double auc(float[] x, int[] y, double a, double b) {
    double[] s = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      s[i] = SpaiResult.sigmoid((float) (a * x[i] + b));
    }
    MetricValue v = Metrics.auroc(y, s);
    return v.isDefined() ? v.value() : Double.NaN;
  }

  private static double sigmoid(double z) {
    return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }
}
