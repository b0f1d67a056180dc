package io.semspai.stream;

import io.semspai.avro.FailureStage;
import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.avro.InlineImage;
import io.semspai.avro.Label;
import io.semspai.avro.PatchAttention;
import io.semspai.engine.Detection;
import io.semspai.engine.EngineException;
import io.semspai.engine.InferenceEngine;
import io.semspai.engine.ModelOutput;
import io.semspai.engine.StageTimes;
import io.semspai.fusion.ThresholdProfile;
import io.semspai.image.DecodedImage;
import io.semspai.image.FetchedImage;
import io.semspai.image.ImageIntake;
import io.semspai.image.ImageSource;
import io.semspai.image.IntakeException;
import io.semspai.spai.SpaiResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The real scorer: the intake fetches and decodes on a pool of its own (fetching blocks on the network), then the
 * batched engine scores. Every failure becomes a {@link ScoreOutcome.Failed} carrying the intake's reason code or
 * a model reason, never an exception that could stop the stream.
 */
public final class PipelineScorer implements EventScorer {
  /** What the scorer needs to know about the model serving now. */
  public interface ModelInfo {
    /** The named threshold profile verdicts are labeled with. */
    ThresholdProfile profile();

    /** The key under which this model's backbone features are cached. */
    String backboneSha256();

    String spaiInputPolicy();
  }

  private final ImageIntake intake;
  private final InferenceEngine engine;
  private final Supplier<ModelInfo> model;
  private final boolean withFeatures;
  private final ExecutorService pool;

  public PipelineScorer(ImageIntake intake, InferenceEngine engine, Supplier<ModelInfo> model, boolean withFeatures,
      int intakeThreads) {
    this.intake = intake;
    this.engine = engine;
    this.model = model;
    this.withFeatures = withFeatures;
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(intakeThreads, r -> {
      Thread t = new Thread(r, "intake-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  private record Loaded(FetchedImage fetched, DecodedImage decoded, long decodeNanos) {}

  @Override
  public CompletableFuture<ScoreOutcome> score(ImageEvent event) {
    return CompletableFuture.supplyAsync(() -> load(event), pool).thenCompose(loadedOrFailed -> {
      if (loadedOrFailed instanceof ScoreOutcome failed) {
        return CompletableFuture.completedFuture(failed);
      }
      Loaded l = (Loaded) loadedOrFailed;
      CompletableFuture<Detection> d;
      try {
        d = engine.submit(l.decoded().image(), l.fetched().sha256(), l.decodeNanos());
      } catch (EngineException e) {
        return CompletableFuture.completedFuture(modelFailure(e, l.fetched().sha256()));
      }
      return d.handle((det, err) -> err == null ? detected(det, l)
          : modelFailure(err instanceof CompletionException && err.getCause() != null ? err.getCause() : err,
              l.fetched().sha256()));
    });
  }

  /** Fetches and decodes; returns a {@link Loaded} or a {@link ScoreOutcome.Failed}. */
  private Object load(ImageEvent event) {
    String label = event.getEventId();
    FetchedImage fetched;
    try {
      ImageSource src;
      if (event.getImage() instanceof InlineImage inline) {
        ByteBuffer b = inline.getData().duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        src = ImageSource.inline("event " + label, bytes);
      } else {
        src = ImageSource.parse(((ImageReference) event.getImage()).getUri());
      }
      fetched = intake.fetch(src);
    } catch (IntakeException e) {
      return new ScoreOutcome.Failed(FailureStage.FETCH, e.reason().name(), e.getMessage(), null,
          engine.modelVersion());
    }
    String claimed = event.getContentSha256();
    if (claimed != null && !claimed.equalsIgnoreCase(fetched.sha256())) {
      return new ScoreOutcome.Failed(FailureStage.FETCH, "CONTENT_HASH_MISMATCH", String.format(
          "image %s: bytes hash to sha256 %s, but the event claims %s", fetched.source(), fetched.sha256(),
          claimed.toLowerCase(Locale.ROOT)), fetched.sha256(), engine.modelVersion());
    }
    long t0 = System.nanoTime();
    try {
      DecodedImage decoded = intake.decode(fetched.bytes(), fetched.source());
      return new Loaded(fetched, decoded, System.nanoTime() - t0);
    } catch (IntakeException e) {
      return new ScoreOutcome.Failed(FailureStage.DECODE, e.reason().name(), e.getMessage(), fetched.sha256(),
          engine.modelVersion());
    }
  }

  private ScoreOutcome detected(Detection d, Loaded l) {
    ModelInfo info = model.get();
    ModelOutput o = d.output();
    double score = o.score();
    ThresholdProfile p = info.profile();
    List<PatchAttention> boxes = new ArrayList<>(o.attention().size());
    for (SpaiResult.PatchAttention a : o.attention()) {
      boxes.add(new PatchAttention(a.box().x(), a.box().y(), a.box().width(), a.box().height(), a.attention()));
    }
    ScoreOutcome.Features features = withFeatures && info.backboneSha256() != null
        ? new ScoreOutcome.Features(info.backboneSha256(), info.spaiInputPolicy(), o.spectralFeature(),
            o.semanticFeature())
        : null;
    StageTimes t = d.times();
    return new ScoreOutcome.Detected(d.sha256(), d.width(), d.height(), score, Label.valueOf(p.label(score).name()), p.name(), p.tLow(),
        p.tHigh(), o.spectralScore(), o.fusedScore() == null ? null : (double) o.fusedScore(), d.modelVersion(),
        boxes, d.deduplicated(), l.fetched().elapsed().toNanos() / 1e6, t.ms(StageTimes.Stage.DECODE),
        t.ms(StageTimes.Stage.QUEUE), t.modelMs(), features);
  }

  private ScoreOutcome modelFailure(Throwable e, String sha256) {
    String reason = e instanceof EngineException.TooLargeForBudget ? "TOO_LARGE_FOR_MEMORY_BUDGET"
        : e instanceof EngineException.Overloaded ? "ENGINE_OVERLOADED"
        : e instanceof EngineException.Closed ? "ENGINE_CLOSED" : "MODEL_ERROR";
    return new ScoreOutcome.Failed(FailureStage.MODEL, reason, String.valueOf(e.getMessage()), sha256,
        engine.modelVersion());
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
