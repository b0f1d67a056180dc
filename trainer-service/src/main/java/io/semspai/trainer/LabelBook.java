package io.semspai.trainer;

import io.semspai.avro.Feedback;
import io.semspai.avro.FeedbackLabel;
import io.semspai.avro.LabelerKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Label hygiene: every piece of feedback goes in, one label per image comes out.
 *
 * <ul>
 *   <li>Duplicates (same image, same label, same labeler) collapse.
 *   <li>Conflicts resolve by labeler kind: trusted dataset, then moderator, then user report. At the same kind the
 *       majority wins; a tie leaves the image unlabeled. Every conflict is recorded.
 *   <li>No labeler contributes more than {@code maxPerLabeler} images: labels beyond the cap are counted, not used.
 *   <li>With {@code userReportsNeedCorroboration}, an image labeled only by user reports needs at least two distinct
 *       reporters agreeing, and user reports never overturn a moderator or a trusted dataset.
 * </ul>
 */
public final class LabelBook {
  /** A conflict: two kinds of evidence disagreeing about one image, and what won. */
  public record Conflict(String sha256, FeedbackLabel chosen, LabelerKind decidedBy, Map<FeedbackLabel, Integer> votes,
      String reason) {}

  /** The label an image ends up with, and the evidence behind it. */
  public record Resolved(String sha256, FeedbackLabel label, LabelerKind strongestKind, String sourcePlatform,
      int votes) {}

  private static final List<LabelerKind> PRECEDENCE =
      List.of(LabelerKind.TRUSTED_DATASET, LabelerKind.MODERATOR, LabelerKind.USER_REPORT);

  private final int maxPerLabeler;
  private final boolean userReportsNeedCorroboration;
  /** sha256 → kind → labeler → label (a labeler's latest word on an image counts once). */
  private final Map<String, Map<LabelerKind, Map<String, FeedbackLabel>>> evidence = new LinkedHashMap<>();
  private final Map<String, String> sources = new HashMap<>();
  private final Map<String, Set<String>> imagesPerLabeler = new HashMap<>();
  private long capped;
  private long duplicates;

  public LabelBook(int maxPerLabeler, boolean userReportsNeedCorroboration) {
    if (maxPerLabeler < 1) {
      throw new IllegalArgumentException("max labels per labeler must be >= 1, got " + maxPerLabeler);
    }
    this.maxPerLabeler = maxPerLabeler;
    this.userReportsNeedCorroboration = userReportsNeedCorroboration;
  }

  /** Adds one piece of feedback; returns false when it was a duplicate or over its labeler's cap. */
  public boolean add(Feedback f) {
    Set<String> mine = imagesPerLabeler.computeIfAbsent(f.getLabelerId(), k -> new HashSet<>());
    if (!mine.contains(f.getSha256()) && mine.size() >= maxPerLabeler) {
      capped++;
      return false;
    }
    mine.add(f.getSha256());
    FeedbackLabel prev = evidence.computeIfAbsent(f.getSha256(), k -> new EnumMap<>(LabelerKind.class))
        .computeIfAbsent(f.getLabelerKind(), k -> new LinkedHashMap<>()).put(f.getLabelerId(), f.getLabel());
    if (f.getSourcePlatform() != null) {
      sources.putIfAbsent(f.getSha256(), f.getSourcePlatform());
    }
    if (prev == f.getLabel()) {
      duplicates++;
      return false;
    }
    return true;
  }

  /** The resolved label of one image, if it has one. */
  public Optional<Resolved> resolve(String sha256) {
    return Optional.ofNullable(resolveInto(sha256, null));
  }

  /** Every image with a usable label, and every conflict met on the way. */
  public Resolution resolveAll() {
    List<Resolved> out = new ArrayList<>();
    List<Conflict> conflicts = new ArrayList<>();
    for (String sha : evidence.keySet()) {
      Resolved r = resolveInto(sha, conflicts);
      if (r != null) {
        out.add(r);
      }
    }
    return new Resolution(Collections.unmodifiableList(out), Collections.unmodifiableList(conflicts), capped,
        duplicates);
  }

  /** The outcome of {@link #resolveAll()}. */
  public record Resolution(List<Resolved> labels, List<Conflict> conflicts, long cappedLabels, long duplicateLabels) {}

  private Resolved resolveInto(String sha, List<Conflict> conflicts) {
    Map<LabelerKind, Map<String, FeedbackLabel>> byKind = evidence.get(sha);
    if (byKind == null) {
      return null;
    }
    Set<FeedbackLabel> seen = new HashSet<>();
    byKind.values().forEach(m -> seen.addAll(m.values()));
    for (LabelerKind kind : PRECEDENCE) {
      Map<String, FeedbackLabel> votes = byKind.get(kind);
      if (votes == null || votes.isEmpty()) {
        continue;
      }
      Map<FeedbackLabel, Integer> tally = new EnumMap<>(FeedbackLabel.class);
      votes.values().forEach(l -> tally.merge(l, 1, Integer::sum));
      int ai = tally.getOrDefault(FeedbackLabel.AI, 0);
      int real = tally.getOrDefault(FeedbackLabel.REAL, 0);
      if (ai == real) {
        if (conflicts != null) {
          conflicts.add(new Conflict(sha, null, kind, tally, "tie at " + kind + ": image left unlabeled"));
        }
        return null;
      }
      FeedbackLabel winner = ai > real ? FeedbackLabel.AI : FeedbackLabel.REAL;
      if (kind == LabelerKind.USER_REPORT && userReportsNeedCorroboration && Math.max(ai, real) < 2) {
        return null; // a single user report is a hint, not a label
      }
      if (seen.size() > 1 && conflicts != null) {
        conflicts.add(new Conflict(sha, winner, kind, allVotes(byKind), "resolved by " + kind + " precedence"));
      }
      return new Resolved(sha, winner, kind, sources.get(sha), ai + real);
    }
    return null;
  }

  private static Map<FeedbackLabel, Integer> allVotes(Map<LabelerKind, Map<String, FeedbackLabel>> byKind) {
    Map<FeedbackLabel, Integer> t = new EnumMap<>(FeedbackLabel.class);
    byKind.values().forEach(m -> m.values().forEach(l -> t.merge(l, 1, Integer::sum)));
    return t;
  }

  public int images() {
    return evidence.size();
  }
}
