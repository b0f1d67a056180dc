package io.semspai.engine;

import java.util.EnumMap;
import java.util.Map;

/** Milliseconds spent per stage for one batch (or one image), filled in as the stages run. */
public final class StageTimes {
  /** The stages the engine measures. */
  public enum Stage { DECODE, PATCHIFY, QUEUE, ENCODE, AGGREGATE, SEMANTIC, FUSE }

  private final EnumMap<Stage, Double> ms = new EnumMap<>(Stage.class);

  public void add(Stage stage, long nanos) {
    ms.merge(stage, nanos / 1e6, Double::sum);
  }

  public double ms(Stage stage) {
    return ms.getOrDefault(stage, 0.0);
  }

  /** Model time: every stage that runs on the model's worker. */
  public double modelMs() {
    return ms(Stage.ENCODE) + ms(Stage.AGGREGATE) + ms(Stage.SEMANTIC) + ms(Stage.FUSE);
  }

  public Map<Stage, Double> asMap() {
    return Map.copyOf(ms);
  }

  public StageTimes copy() {
    StageTimes t = new StageTimes();
    t.ms.putAll(ms);
    return t;
  }
}
