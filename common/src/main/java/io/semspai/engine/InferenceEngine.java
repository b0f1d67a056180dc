package io.semspai.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.semspai.config.ConfigException;
import io.semspai.config.Settings;
import io.semspai.engine.StageTimes.Stage;
import io.semspai.image.RgbImage;
import io.semspai.nn.Placement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one inference engine behind the detector, the trainer and the CLI. Thread-safe: any thread submits an image
 * and gets a future; one worker thread per engine (DJL blocks are not thread-safe) packs the SPAI patches of many
 * images into shared encoder batches, so a 300×4000 strip, a 224² thumbnail and a 1024² photo can share one batch.
 *
 * <p>A batch goes when it holds {@code maxBatchPatches} patches or when its first image has waited
 * {@code maxDelay}. A byte budget bounds the pixels and patches in flight and the queue is bounded, so a burst of
 * huge images blocks or is refused (per {@link Overflow}) instead of exhausting memory. Identical images (same
 * sha256) are computed once: a bounded cache holds recent answers of the current model version, and an image
 * already in flight is shared. A new model is swapped in between batches; the cache is cleared with it.
 */
public final class InferenceEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InferenceEngine.class);

  /** Default batch caps: a CPU gains nothing past a few dozen patches, a GPU keeps gaining into the hundreds. */
  static final int CPU_BATCH_CAP = 64;
  static final int GPU_BATCH_CAP = 256;

  /** What a submission does when the queue or the memory budget is full. */
  public enum Overflow { BLOCK, REJECT }

  /**
   * @param maxBatchPatches SPAI patches per encoder batch
   * @param maxDelay how long the first image of a batch may wait for company
   * @param memoryBudgetBytes bytes of pixels, patches and activations in flight
   * @param queueCapacity images waiting for the worker
   * @param overflow block or reject when full
   * @param blockTimeout how long a blocked submission waits before it is refused anyway
   * @param cacheEntries answers kept for reposted images (0 disables the cache)
   * @param drainTimeout how long {@link #close()} lets queued work finish
   */
  public record Options(int maxBatchPatches, Duration maxDelay, long memoryBudgetBytes, int queueCapacity,
      Overflow overflow, Duration blockTimeout, int cacheEntries, Duration drainTimeout) {
    public Options {
      if (maxBatchPatches < 1 || queueCapacity < 1 || cacheEntries < 0 || memoryBudgetBytes <= 0) {
        throw new IllegalArgumentException("engine: max batch patches and queue capacity must be >= 1, cache >= 0, "
            + "memory budget > 0");
      }
    }

    /**
     * Defaults for a model: the memory budget comes from the JVM's max heap and the free native memory, and the
     * batch size from the budget (a full-size patch needs tens of MB of activations in fp32).
     */
    public static Options defaults(long bytesPerPatch) {
      return withBudget(bytesPerPatch, MemoryBudget.defaultBudget(), CPU_BATCH_CAP);
    }

    /**
     * Defaults for a model on {@code placement}. On a GPU the budget comes from {@code gpuMemoryBytes}
     * ({@code engine.gpu-memory-mib}; 0 asks CUDA) instead of the host's memory, and the batch cap it implies may go
     * up to {@value #GPU_BATCH_CAP} patches, since a GPU keeps gaining throughput with batch size where a CPU does not.
     *
     * @throws IllegalArgumentException on a GPU whose memory is neither configured nor reported by CUDA
     */
    public static Options defaults(long bytesPerPatch, Placement placement, long gpuMemoryBytes) {
      return withBudget(bytesPerPatch, MemoryBudget.defaultBudget(placement, gpuMemoryBytes),
          placement.onGpu() ? GPU_BATCH_CAP : CPU_BATCH_CAP);
    }

    /**
     * The engine settings of a service for {@code model} (on its placement): {@code engine.memory-budget-mib} (else
     * the default budget, from {@code engine.gpu-memory-mib} on a GPU), {@code engine.max-batch-patches} (else
     * derived from the budget), {@code engine.max-delay} and {@code engine.cache-entries}.
     */
    public static Options fromSettings(Settings settings, BatchModel model) {
      Placement placement = model.placement();
      int cap = placement.onGpu() ? GPU_BATCH_CAP : CPU_BATCH_CAP;
      Options o;
      if (settings.has("engine.memory-budget-mib")) {
        o = withBudget(model.bytesPerPatch(),
            (long) settings.integer("engine.memory-budget-mib", 1024, 16, 1 << 22) << 20, cap);
      } else {
        long gpuBytes = (long) settings.integer("engine.gpu-memory-mib", 0, 0, 1 << 22) << 20;
        try {
          o = defaults(model.bytesPerPatch(), placement, gpuBytes);
        } catch (IllegalArgumentException e) {
          throw new ConfigException(e.getMessage());
        }
      }
      if (settings.has("engine.max-batch-patches")) {
        o = o.withMaxBatchPatches(settings.integer("engine.max-batch-patches", 16, 1, 4096));
      }
      return o.withMaxDelay(settings.duration("engine.max-delay", Duration.ofMillis(20)))
          .withCache(settings.integer("engine.cache-entries", 10_000, 0, 10_000_000));
    }

    /** A quarter of the budget's worth of patches, at least 1 and at most {@code cap}. */
    private static Options withBudget(long bytesPerPatch, long budget, int cap) {
      int patches = (int) Math.max(1, Math.min(cap, budget / 4 / Math.max(1, bytesPerPatch)));
      return new Options(patches, Duration.ofMillis(20), budget, 256, Overflow.BLOCK, Duration.ofMinutes(5), 10_000,
          Duration.ofSeconds(60));
    }

    public Options withMaxBatchPatches(int n) {
      return new Options(n, maxDelay, memoryBudgetBytes, queueCapacity, overflow, blockTimeout, cacheEntries,
          drainTimeout);
    }

    public Options withMemoryBudget(long bytes) {
      return new Options(maxBatchPatches, maxDelay, bytes, queueCapacity, overflow, blockTimeout, cacheEntries,
          drainTimeout);
    }

    public Options withQueue(int capacity, Overflow policy, Duration timeout) {
      return new Options(maxBatchPatches, maxDelay, memoryBudgetBytes, capacity, policy, timeout, cacheEntries,
          drainTimeout);
    }

    public Options withMaxDelay(Duration d) {
      return new Options(maxBatchPatches, d, memoryBudgetBytes, queueCapacity, overflow, blockTimeout, cacheEntries,
          drainTimeout);
    }

    public Options withCache(int entries) {
      return new Options(maxBatchPatches, maxDelay, memoryBudgetBytes, queueCapacity, overflow, blockTimeout,
          entries, drainTimeout);
    }
  }

  private static final class Job {
    final String sha256;
    final int width;
    final int height;
    final RgbImage image;
    final CompletableFuture<Detection> future = new CompletableFuture<>();
    final long cost;
    final long enqueuedNanos;
    final StageTimes times = new StageTimes();
    BatchModel preparedWith;
    BatchModel.Prepared prepared;

    Job(String sha256, RgbImage image, long cost) {
      this.sha256 = sha256;
      this.width = image.width();
      this.height = image.height();
      this.image = image;
      this.cost = cost;
      this.enqueuedNanos = System.nanoTime();
    }
  }

  private final Options options;
  private final AtomicReference<BatchModel> model;
  private final List<BatchModel> retired = new ArrayList<>();
  private final BlockingQueue<Job> queue;
  private final MemoryBudget budget;
  private final Map<String, CompletableFuture<Detection>> inFlight = new ConcurrentHashMap<>();
  private final Map<String, Detection> cache;
  private final Thread worker;
  private volatile boolean closed;

  private final DistributionSummary batchPatches;
  private final DistributionSummary batchImages;
  private final Counter cacheHits;
  private final Map<Stage, Timer> stageTimers = new EnumMap<>(Stage.class);

  public InferenceEngine(BatchModel model, Options options, MeterRegistry metrics) {
    this.options = options;
    this.model = new AtomicReference<>(model);
    this.queue = new LinkedBlockingQueue<>(options.queueCapacity());
    this.budget = new MemoryBudget(options.memoryBudgetBytes());
    int cap = options.cacheEntries();
    this.cache = java.util.Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Detection> eldest) {
        return size() > cap;
      }
    });
    this.batchPatches = DistributionSummary.builder("semspai.engine.batch.patches")
        .description("SPAI patches per encoder batch").publishPercentileHistogram().register(metrics);
    this.batchImages = DistributionSummary.builder("semspai.engine.batch.images")
        .description("Images per batch").publishPercentileHistogram().register(metrics);
    this.cacheHits = Counter.builder("semspai.engine.cache.hits")
        .description("Images answered from the content-hash cache or an identical image in flight").register(metrics);
    Gauge.builder("semspai.engine.queue.depth", queue, BlockingQueue::size).description("Images waiting")
        .register(metrics);
    Gauge.builder("semspai.engine.memory.used", budget, MemoryBudget::used).baseUnit("bytes")
        .description("Bytes of the memory budget in use").register(metrics);
    for (Stage s : Stage.values()) {
      stageTimers.put(s, Timer.builder("semspai.engine.stage").tag("stage", s.name().toLowerCase())
          .description("Time per stage (model stages per batch)").register(metrics));
    }
    this.worker = new Thread(this::work, "inference-worker");
    worker.setDaemon(true);
    worker.start();
    log.info("engine: one worker on {}, max {} patches per batch, max delay {} ms, memory budget {} MiB, queue {} "
        + "({}), model {}", model.placement().describe(), options.maxBatchPatches(), options.maxDelay().toMillis(),
        options.memoryBudgetBytes() >> 20, options.queueCapacity(), options.overflow(), model.version());
  }

  public Options options() {
    return options;
  }

  /** The version of the model that scores new batches. */
  public String modelVersion() {
    return model.get().version();
  }

  public BatchModel model() {
    return model.get();
  }

  /**
   * Scores an image. {@code decodeNanos} (may be 0) is reported as the decode stage.
   *
   * @throws EngineException.Overloaded when full and rejecting (or blocked past the block timeout)
   * @throws EngineException.TooLargeForBudget when this image alone exceeds the memory budget
   * @throws EngineException.Closed after {@link #close()}
   */
  public CompletableFuture<Detection> submit(RgbImage image, String sha256, long decodeNanos) {
    if (closed) {
      throw new EngineException.Closed("engine is closed; image " + sha256 + " was not scored");
    }
    BatchModel m = model.get();
    String key = m.version() + "/" + sha256;
    Detection hit = cache.get(key);
    if (hit != null) {
      cacheHits.increment();
      return CompletableFuture.completedFuture(hit.asDuplicate());
    }
    CompletableFuture<Detection> running = inFlight.get(key);
    if (running != null) {
      cacheHits.increment();
      return running.thenApply(Detection::asDuplicate);
    }
    // Cut first: the model's input policy decides how many patches an image makes (native, resize:N), and the
    // cost is then exact. Only the callers' own images are allocated before the budget is checked.
    long t0 = System.nanoTime();
    BatchModel.Prepared prepared = m.prepare(image);
    long patchify = System.nanoTime() - t0;
    long cost = 3L * image.width() * image.height() + prepared.bytes()
        + (long) prepared.patches().count() * m.bytesPerPatch();
    if (cost > budget.capacity()) {
      throw new EngineException.TooLargeForBudget(String.format(
          "image %s: %d×%d px needs ~%d MiB in flight, more than the whole memory budget of %d MiB "
              + "(raise engine.memory-budget-mib)", sha256, image.width(), image.height(), cost >> 20,
          budget.capacity() >> 20));
    }
    acquire(cost, sha256);
    Job job = new Job(sha256, image, cost);
    job.times.add(Stage.DECODE, decodeNanos);
    job.times.add(Stage.PATCHIFY, patchify);
    job.prepared = prepared;
    job.preparedWith = m;
    try {
      enqueue(job);
    } catch (RuntimeException | Error e) {
      budget.release(cost);
      throw e;
    }
    inFlight.put(key, job.future);
    job.future.whenComplete((d, e) -> inFlight.remove(key, job.future));
    if (closed && !worker.isAlive() && queue.remove(job)) {
      // close() ran between the check above and the enqueue: nobody will take this job.
      budget.release(cost);
      job.future.completeExceptionally(new EngineException.Closed("engine closed; image " + sha256 + " not scored"));
    }
    return job.future;
  }

  private void acquire(long cost, String sha256) {
    boolean ok;
    if (options.overflow() == Overflow.REJECT) {
      ok = budget.tryAcquire(cost);
    } else {
      try {
        ok = budget.acquire(cost, options.blockTimeout().toNanos());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EngineException.Overloaded("interrupted while waiting for memory for image " + sha256);
      }
    }
    if (!ok) {
      throw new EngineException.Overloaded(String.format("engine memory budget full (%d of %d MiB in flight); "
          + "image %s refused, retry later", budget.used() >> 20, budget.capacity() >> 20, sha256));
    }
  }

  private void enqueue(Job job) {
    boolean ok;
    if (options.overflow() == Overflow.REJECT) {
      ok = queue.offer(job);
    } else {
      try {
        ok = queue.offer(job, options.blockTimeout().toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ok = false;
      }
    }
    if (!ok) {
      throw new EngineException.Overloaded("engine queue full (" + options.queueCapacity() + " images); image "
          + job.sha256 + " refused, retry later");
    }
  }

  /** Puts {@code next} in service; it scores from the next batch on and the cache starts empty. */
  public void swap(BatchModel next) {
    BatchModel old = model.getAndSet(next);
    cache.clear();
    synchronized (retired) {
      retired.add(old);
    }
    log.info("engine: model {} replaces {} from the next batch", next.version(), old.version());
  }

  public int queueDepth() {
    return queue.size();
  }

  public long memoryInUse() {
    return budget.used();
  }

  private void work() {
    long drainDeadline = Long.MAX_VALUE;
    while (true) {
      if (closed && drainDeadline == Long.MAX_VALUE) {
        drainDeadline = System.nanoTime() + options.drainTimeout().toNanos();
      }
      if (closed && (queue.isEmpty() || System.nanoTime() > drainDeadline)) {
        break;
      }
      Job first;
      try {
        first = queue.poll(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        break;
      }
      if (first == null) {
        closeRetired();
        continue;
      }
      List<Job> batch = new ArrayList<>();
      batch.add(first);
      int patches = first.prepared.patches().count();
      long deadline = first.enqueuedNanos + options.maxDelay().toNanos();
      while (patches < options.maxBatchPatches()) {
        Job next = queue.peek();
        if (next == null) {
          long wait = deadline - System.nanoTime();
          if (wait <= 0 || closed) {
            break;
          }
          try {
            next = queue.poll(wait, TimeUnit.NANOSECONDS);
          } catch (InterruptedException e) {
            break;
          }
          if (next == null) {
            break;
          }
          batch.add(next);
          patches += next.prepared.patches().count();
          continue;
        }
        if (patches + next.prepared.patches().count() > options.maxBatchPatches()) {
          break;
        }
        batch.add(queue.poll());
        patches += next.prepared.patches().count();
      }
      runBatch(batch, patches);
      closeRetired();
    }
    List<Job> left = new ArrayList<>();
    queue.drainTo(left);
    for (Job j : left) {
      budget.release(j.cost);
      j.future.completeExceptionally(new EngineException.Closed(
          "engine closed before image " + j.sha256 + " was scored (drain timeout " + options.drainTimeout().toSeconds()
              + " s)"));
    }
  }

  private void runBatch(List<Job> batch, int patches) {
    BatchModel m = model.get();
    long start = System.nanoTime();
    StageTimes times = new StageTimes();
    List<BatchModel.Prepared> inputs = new ArrayList<>(batch.size());
    for (Job j : batch) {
      if (j.preparedWith != m) {
        // A swap since this image was cut: cut it again in case the new model's input policy differs.
        long t0 = System.nanoTime();
        j.prepared = m.prepare(j.image);
        j.preparedWith = m;
        j.times.add(Stage.PATCHIFY, System.nanoTime() - t0);
      }
      j.times.add(Stage.QUEUE, start - j.enqueuedNanos);
      inputs.add(j.prepared);
    }
    batchPatches.record(patches);
    batchImages.record(batch.size());
    try {
      List<ModelOutput> outputs = m.run(inputs, options.maxBatchPatches(), times);
      for (Stage s : Stage.values()) {
        double ms = times.ms(s);
        if (ms > 0) {
          stageTimers.get(s).record(Duration.ofNanos((long) (ms * 1e6)));
        }
      }
      for (int i = 0; i < batch.size(); i++) {
        Job j = batch.get(i);
        StageTimes t = j.times.copy();
        for (Stage s : List.of(Stage.ENCODE, Stage.AGGREGATE, Stage.SEMANTIC, Stage.FUSE)) {
          t.add(s, (long) (times.ms(s) * 1e6));
        }
        stageTimers.get(Stage.QUEUE).record(Duration.ofNanos((long) (j.times.ms(Stage.QUEUE) * 1e6)));
        stageTimers.get(Stage.PATCHIFY).record(Duration.ofNanos((long) (j.times.ms(Stage.PATCHIFY) * 1e6)));
        stageTimers.get(Stage.DECODE).record(Duration.ofNanos((long) (j.times.ms(Stage.DECODE) * 1e6)));
        Detection d = new Detection(j.sha256, j.width, j.height, m.version(), outputs.get(i), false, t);
        if (options.cacheEntries() > 0 && m == model.get()) {
          cache.put(m.version() + "/" + j.sha256, d);
        }
        j.prepared = null;
        budget.release(j.cost);
        j.future.complete(d);
      }
    } catch (Throwable e) {
      if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
        throw (VirtualMachineError) e;
      }
      log.error("model {} failed on a batch of {} images ({} patches)", m.version(), batch.size(), patches, e);
      for (Job j : batch) {
        j.prepared = null;
        budget.release(j.cost);
        j.future.completeExceptionally(new EngineException.ModelFailure(
            "model " + m.version() + " failed on image " + j.sha256 + ": " + e, e));
      }
    }
  }

  private void closeRetired() {
    synchronized (retired) {
      BatchModel current = model.get();
      retired.removeIf(r -> {
        if (r != current) {
          r.close();
          return true;
        }
        return false;
      });
    }
  }

  /** Stops accepting work, lets queued images finish for up to the drain timeout, fails the rest, closes. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      worker.join(options.drainTimeout().toMillis() + 30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (worker.isAlive()) {
      // Closing the model under a running batch would crash native code; leave it to the process exit.
      log.warn("engine worker still busy after the drain timeout; abandoning it");
      return;
    }
    List<Job> left = new ArrayList<>();
    queue.drainTo(left);
    for (Job j : left) {
      budget.release(j.cost);
      j.future.completeExceptionally(new EngineException.Closed("engine closed; image " + j.sha256 + " not scored"));
    }
    closeRetired();
    model.get().close();
  }
}
