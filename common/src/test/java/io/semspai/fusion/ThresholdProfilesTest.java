package io.semspai.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semspai.fusion.ThresholdProfile.Label;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThresholdProfilesTest {
  @Test
  void labelsFollowTheHalfOpenBands() {
    ThresholdProfile p = new ThresholdProfile("balanced", 0.3, 0.7);
    assertEquals(Label.REAL, p.label(0.0));
    assertEquals(Label.REAL, p.label(0.2999));
    assertEquals(Label.UNCERTAIN, p.label(0.3)); // REAL only strictly below t_low
    assertEquals(Label.UNCERTAIN, p.label(0.6999));
    assertEquals(Label.AI, p.label(0.7)); // AI at or above t_high
    assertEquals(Label.AI, p.label(1.0));
    ThresholdProfile flat = new ThresholdProfile("strict", 0.5, 0.5);
    assertEquals(Label.REAL, flat.label(0.4999));
    assertEquals(Label.AI, flat.label(0.5)); // no UNCERTAIN band when t_low == t_high
    assertThrows(IllegalArgumentException.class, () -> p.label(Double.NaN));
    assertEquals(0.7, p.toEvalProfile().tHigh());
  }

  @Test
  void invalidPairsAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ThresholdProfile("x", 0.8, 0.2));
    assertTrue(e.getMessage().contains("need 0 <= t_low <= t_high <= 1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ThresholdProfile("x", -0.1, 0.2));
    assertThrows(IllegalArgumentException.class, () -> new ThresholdProfile("x", 0.1, 1.2));
  }

  @Test
  void randomInitPlaceholdersAreMarkedUncalibrated() {
    ThresholdProfiles t = ThresholdProfiles.uncalibrated(ThresholdProfiles.Score.FUSED, "random");
    assertFalse(t.calibrated());
    assertEquals(new ThresholdProfile("balanced", 0.5, 0.5), t.balanced());
    assertEquals(new ThresholdProfile("strict", 0.5, 0.5), t.strict());
  }

  @Test
  void jsonRoundTripsAndNamesWhatIsWrong() {
    ThresholdProfiles t = ThresholdProfiles.calibrated(ThresholdProfiles.Score.FUSED, "FPR 5% on validation",
        List.of(new ThresholdProfile("balanced", 0.35, 0.62), new ThresholdProfile("strict", 0.2, 0.91),
            new ThresholdProfile("lenient", 0.5, 0.55)));
    ObjectNode json = t.toJson();
    assertEquals("{\"applies_to\":\"fused\",\"calibrated\":true,\"note\":\"FPR 5% on validation\",\"profiles\":{"
        + "\"balanced\":{\"t_low\":0.35,\"t_high\":0.62},\"strict\":{\"t_low\":0.2,\"t_high\":0.91},"
        + "\"lenient\":{\"t_low\":0.5,\"t_high\":0.55}}}", json.toString());
    assertEquals(t, ThresholdProfiles.fromJson(json));
    ((ObjectNode) json.get("profiles")).remove("strict");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThresholdProfiles.fromJson(json));
    assertTrue(e.getMessage().contains("need 'balanced' and 'strict'"), e.getMessage());
    ObjectNode bad = new ObjectMapper().createObjectNode().put("applies_to", "semantic").put("calibrated", true);
    e = assertThrows(IllegalArgumentException.class, () -> ThresholdProfiles.fromJson(bad));
    assertTrue(e.getMessage().contains("applies_to must be fused or spectral"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> t.profile("medium"));
    assertTrue(e.getMessage().contains("no threshold profile 'medium'"), e.getMessage());
  }
}
