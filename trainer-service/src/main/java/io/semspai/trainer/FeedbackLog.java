package io.semspai.trainer;

import io.semspai.avro.Feedback;
import io.semspai.topics.Topic;
import io.semspai.topics.TopicTail;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The feedback topic replayed into a {@link LabelBook}. The topic is the source of truth (long retention): the book
 * is rebuilt from its beginning on every start, so a restart, even in the middle of a retrain, loses no feedback.
 */
public final class FeedbackLog implements AutoCloseable {
  private final TopicTail<Feedback> tail;
  private final LabelBook book;
  private final ImportanceWeights weights;
  private final Map<String, Feedback> lastBySha = new HashMap<>();
  private long total;

  public FeedbackLog(String bootstrap, Topic<String, Feedback> topic, LabelBook book, ImportanceWeights weights) {
    this.tail = new TopicTail<>(bootstrap, topic);
    this.book = book;
    this.weights = weights;
  }

  /** Takes in what arrived since the last call; returns how many new pieces of feedback there were. */
  public int catchUp() {
    return tail.catchUp(r -> {
      Feedback f = r.value();
      if (f == null) {
        return;
      }
      total++;
      if (book.add(f)) {
        weights.countFeedback(f.getLabel().name(), f.getSourcePlatform());
      }
      Feedback prev = lastBySha.get(f.getSha256());
      if (prev == null || f.getImageUri() != null) {
        lastBySha.put(f.getSha256(), f);
      }
    });
  }

  /** The latest feedback for an image that names where to fetch it (for computing missing features). */
  public Optional<Feedback> where(String sha256) {
    return Optional.ofNullable(lastBySha.get(sha256));
  }

  public LabelBook book() {
    return book;
  }

  public long total() {
    return total;
  }

  @Override
  public void close() {
    tail.close();
  }
}
