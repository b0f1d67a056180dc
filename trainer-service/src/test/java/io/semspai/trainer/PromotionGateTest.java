package io.semspai.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PromotionGateTest {
  private static final int N = 400;

  /** Scores whose separation grows with {@code skill} (0 = chance). */
  private static double[] scores(int[] y, double skill, long seed) {
    Random r = new Random(seed);
    double[] s = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      double z = r.nextGaussian() + skill * (y[i] == 1 ? 1 : -1);
      s[i] = 1 / (1 + Math.exp(-z));
    }
    return s;
  }

  private static int[] labels() {
    int[] y = new int[N];
    for (int i = 0; i < N; i++) {
      y[i] = i % 2;
    }
    return y;
  }

  @Test
  void aClearlyBetterChallengerIsPromoted() {
    int[] y = labels();
    var d = PromotionGate.decide(PromotionGate.Rules.defaults(),
        new PromotionGate.Scores(y, scores(y, 0.0, 1), scores(y, 2.0, 2)), null, 0.5);
    assertTrue(d.promote(), String.join("\n", d.reasons()));
    assertTrue(d.challengerMetrics().get("auc") > 0.9);
  }

  @Test
  void beatingARandomChampionIsNotEnoughBelowTheFloor() {
    int[] y = labels();
    var d = PromotionGate.decide(PromotionGate.Rules.defaults(),
        new PromotionGate.Scores(y, scores(y, 0.0, 1), scores(y, 0.2, 2)), null, 0.5);
    assertFalse(d.promote());
    assertTrue(d.reasons().stream().anyMatch(r -> r.startsWith("FAILED AUC")), String.join("\n", d.reasons()));
  }

  @Test
  void aWorseChallengerFailsTheBootstrapCheck() {
    int[] y = labels();
    var d = PromotionGate.decide(PromotionGate.Rules.defaults(),
        new PromotionGate.Scores(y, scores(y, 2.0, 1), scores(y, 1.2, 2)), null, 0.5);
    assertFalse(d.promote());
    assertTrue(d.reasons().stream().anyMatch(r -> r.startsWith("FAILED AUC difference")), String.join("\n",
        d.reasons()));
  }

  @Test
  void losingRobustnessOnPerturbedImagesBlocksPromotion() {
    int[] y = labels();
    var d = PromotionGate.decide(PromotionGate.Rules.defaults(),
        new PromotionGate.Scores(y, scores(y, 1.8, 1), scores(y, 2.0, 2)),
        new PromotionGate.Scores(y, scores(y, 1.5, 3), scores(y, 0.3, 4)), 0.5);
    assertFalse(d.promote());
    assertTrue(d.reasons().stream().anyMatch(r -> r.startsWith("FAILED perturbed AUC")));
  }

  @Test
  void singleClassHoldoutPromotesNothing() {
    int[] y = new int[N];
    var d = PromotionGate.decide(PromotionGate.Rules.defaults(),
        new PromotionGate.Scores(y, scores(y, 0, 1), scores(y, 2, 2)), null, 0.5);
    assertFalse(d.promote());
    assertEquals(1, d.reasons().size());
  }
}
