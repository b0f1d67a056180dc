package io.semspai.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.LabelerKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LabelHygieneTest {
  private static final String A = "a".repeat(64);
  private static final String B = "b".repeat(64);

  private static Feedback fb(String sha, FeedbackLabel l, String who, LabelerKind kind) {
    return Feedback.newBuilder().setSha256(sha).setLabel(l).setLabelerId(who).setLabelerKind(kind)
        .setSourcePlatform("p").setLabeledAt(Instant.EPOCH).build();
  }

  @Test
  void duplicatesCollapse() {
    LabelBook book = new LabelBook(100, true);
    assertTrue(book.add(fb(A, FeedbackLabel.AI, "m1", LabelerKind.MODERATOR)));
    assertFalse(book.add(fb(A, FeedbackLabel.AI, "m1", LabelerKind.MODERATOR)));
    var r = book.resolveAll();
    assertEquals(1, r.labels().size());
    assertEquals(1, r.duplicateLabels());
  }

  @Test
  void precedenceResolvesConflictsAndRecordsThem() {
    LabelBook book = new LabelBook(100, true);
    book.add(fb(A, FeedbackLabel.REAL, "u1", LabelerKind.USER_REPORT));
    book.add(fb(A, FeedbackLabel.REAL, "u2", LabelerKind.USER_REPORT));
    book.add(fb(A, FeedbackLabel.AI, "m1", LabelerKind.MODERATOR));
    book.add(fb(B, FeedbackLabel.AI, "m1", LabelerKind.MODERATOR));
    book.add(fb(B, FeedbackLabel.REAL, "ds", LabelerKind.TRUSTED_DATASET));
    var r = book.resolveAll();
    assertEquals(FeedbackLabel.AI, book.resolve(A).orElseThrow().label(), "moderator beats user reports");
    assertEquals(FeedbackLabel.REAL, book.resolve(B).orElseThrow().label(), "trusted dataset beats moderator");
    assertEquals(2, r.conflicts().size());
    assertEquals(LabelerKind.TRUSTED_DATASET, r.conflicts().get(1).decidedBy());
  }

  @Test
  void aLoneUserReportIsNotALabel() {
    LabelBook book = new LabelBook(100, true);
    book.add(fb(A, FeedbackLabel.AI, "u1", LabelerKind.USER_REPORT));
    assertTrue(book.resolve(A).isEmpty());
    book.add(fb(A, FeedbackLabel.AI, "u2", LabelerKind.USER_REPORT));
    assertEquals(FeedbackLabel.AI, book.resolve(A).orElseThrow().label(), "two reporters corroborate");
    LabelBook lax = new LabelBook(100, false);
    lax.add(fb(A, FeedbackLabel.AI, "u1", LabelerKind.USER_REPORT));
    assertTrue(lax.resolve(A).isPresent(), "corroboration is configurable");
  }

  @Test
  void perLabelerCapStopsOneSourceDominating() {
    LabelBook book = new LabelBook(10, false);
    for (int i = 0; i < 50; i++) {
      book.add(fb(String.format("%064x", i), FeedbackLabel.AI, "spammer", LabelerKind.MODERATOR));
    }
    var r = book.resolveAll();
    assertEquals(10, r.labels().size());
    assertEquals(40, r.cappedLabels());
  }

  @Test
  void holdoutIsTheShaBucketOfTrustedLabels() {
    int inBucket = 0;
    List<String> members = new ArrayList<>();
    Random rnd = new Random(1);
    for (int i = 0; i < 5000; i++) {
      String sha = String.format("%016x%016x%016x%016x", rnd.nextLong(), rnd.nextLong(), rnd.nextLong(),
          rnd.nextLong());
      if (Holdout.inBucket(sha)) {
        inBucket++;
        members.add(sha);
      }
      assertEquals(Holdout.inBucket(sha), Holdout.isHoldout(sha, LabelerKind.MODERATOR));
      assertFalse(Holdout.isHoldout(sha, LabelerKind.USER_REPORT));
    }
    assertEquals(1000, inBucket, 80, "about a fifth of images");
    assertTrue(Holdout.inBucket("0".repeat(63) + "5"));
    assertFalse(Holdout.inBucket("0".repeat(63) + "6"));
    String v = Holdout.version(members);
    assertTrue(v.startsWith("n=" + members.size() + ";h="), v);
    java.util.Collections.reverse(members);
    assertEquals(v, Holdout.version(members), "order does not matter");
  }

  /**
   * A stream that is 90% REAL, where feedback arrives mostly on the model's AI verdicts (what users complain about):
   * after weighting, the labeled set's label mix matches the stream's again.
   */
  @Test
  void importanceWeightsUndoSkewedFeedback() {
    ImportanceWeights w = new ImportanceWeights(0.01, 100);
    for (int i = 0; i < 9000; i++) {
      w.countVerdict("REAL", "p");
    }
    for (int i = 0; i < 1000; i++) {
      w.countVerdict("AI", "p");
    }
    for (int i = 0; i < 300; i++) {
      w.countFeedback("AI", "p");
    }
    for (int i = 0; i < 100; i++) {
      w.countFeedback("REAL", "p");
    }
    double weightedAi = 300 * w.weight("AI", "p");
    double weightedReal = 100 * w.weight("REAL", "p");
    assertEquals(0.10, weightedAi / (weightedAi + weightedReal), 1e-9);
    assertEquals(0.1 / 0.75, w.weight("AI", "p"), 1e-12);
    assertEquals(0.9 / 0.25, w.weight("REAL", "p"), 1e-12);
    assertEquals(1.0, w.weight("AI", "other-platform"), "no feedback in that cell: neutral");
  }
}
