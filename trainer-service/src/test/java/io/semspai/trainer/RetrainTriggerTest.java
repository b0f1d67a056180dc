package io.semspai.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The retrain trigger on a clock the test moves: the label count, the timer, and the timer's need for new labels. */
class RetrainTriggerTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final RetrainTrigger trigger = new RetrainTrigger(100, Duration.ofMinutes(10), now::get);

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void theTimerFiresWithFewerThanNNewLabels() {
    trigger.reset(0);
    assertNull(trigger.due(3), "3 labels and no time passed");
    advance(Duration.ofMinutes(9));
    assertNull(trigger.due(3), "a minute early");
    advance(Duration.ofMinutes(1));
    assertEquals(RetrainTrigger.Reason.TIMER, trigger.due(3));
  }

  @Test
  void theTimerDoesNotFireWhenNoLabelArrivedSinceTheLastRetrain() {
    trigger.reset(50);
    advance(Duration.ofHours(5));
    assertNull(trigger.due(50), "hours later, but nothing new to learn from");
    assertEquals(RetrainTrigger.Reason.TIMER, trigger.due(51));
  }

  @Test
  void nNewLabelsFireAtOnceAndAResetStartsBothCountsAgain() {
    trigger.reset(0);
    assertNull(trigger.due(99));
    assertEquals(RetrainTrigger.Reason.LABELS, trigger.due(100));
    trigger.reset(100);
    assertNull(trigger.due(199));
    advance(Duration.ofMinutes(10));
    assertEquals(RetrainTrigger.Reason.TIMER, trigger.due(101));
    trigger.reset(101);
    assertNull(trigger.due(101));
    advance(Duration.ofMinutes(10));
    assertNull(trigger.due(101), "the timer restarted at the reset and no label came since");
  }

  @Test
  void aPeriodOrCountThatCouldNeverFireIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new RetrainTrigger(0, Duration.ofMinutes(1), now::get));
    assertThrows(IllegalArgumentException.class, () -> new RetrainTrigger(1, Duration.ZERO, now::get));
  }
}
