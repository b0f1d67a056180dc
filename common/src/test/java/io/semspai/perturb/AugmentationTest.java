package io.semspai.perturb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class AugmentationTest {
  @Test
  void copiesAreDeterministicPerImageAndWithinTheirRanges() {
    List<PerturbationPipeline> a = Augmentation.DEFAULT.copies(4, Seeds.forImage(1, "x.png"));
    assertEquals(a, Augmentation.DEFAULT.copies(4, Seeds.forImage(1, "x.png")));
    assertNotEquals(a, Augmentation.DEFAULT.copies(4, Seeds.forImage(1, "y.png")));
    EnumSet<PerturbationKind> seen = EnumSet.noneOf(PerturbationKind.class);
    for (long s = 0; s < 200; s++) {
      for (PerturbationPipeline p : Augmentation.DEFAULT.copies(3, s)) {
        assertEquals(1, p.steps().size());
        Perturbation step = p.steps().get(0);
        seen.add(step.kind());
        double v = step.strength();
        switch (step.kind()) {
          case JPEG -> assertTrue(v >= 50 && v <= 100 && v == Math.rint(v), p.spec());
          case SCALE -> assertTrue(v >= 0.5 && v <= 1.5, p.spec());
          case BLUR -> assertTrue(v >= 0.5 && v <= 2, p.spec());
          case CROP -> assertTrue(v >= 0.7 && v <= 0.95, p.spec());
          default -> throw new AssertionError(p.spec());
        }
      }
    }
    assertEquals(EnumSet.of(PerturbationKind.JPEG, PerturbationKind.SCALE, PerturbationKind.BLUR,
        PerturbationKind.CROP), seen);
    assertTrue(Augmentation.DEFAULT.copies(0, 1).isEmpty());
  }

  @Test
  void badRangesFailEarly() {
    assertThrows(PerturbationSpecException.class, () -> new Augmentation.Range(PerturbationKind.WEBP, 50, 90));
    assertThrows(PerturbationSpecException.class, () -> new Augmentation.Range(PerturbationKind.JPEG, 50, 120));
    assertThrows(IllegalArgumentException.class, () -> new Augmentation.Range(PerturbationKind.BLUR, 2, 1));
  }
}
