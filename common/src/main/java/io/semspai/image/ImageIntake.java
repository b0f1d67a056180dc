package io.semspai.image;

import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

/**
 * The image intake: the only way the detector, the trainer and the CLI get pixels from a source. It fetches inline
 * bytes, {@code file://} paths under the configured roots, and {@code http(s)} URLs with SSRF protection, size caps,
 * timeouts, redirects and retries; then decodes them with {@link ImageDecoder}. Every failure is an
 * {@link IntakeException} with one {@link IntakeReason}.
 *
 * <pre>{@code
 * try (ImageIntake intake = new ImageIntake(IntakePolicy.fromMap(config))) {
 *   LoadedImage img = intake.load(ImageSource.parse("https://example.org/cat.jpg"));
 *   float[] chw = img.image().toChwUnitFloats();
 * } catch (IntakeException e) {
 *   // e.reason() for metrics and dead-letter routing, e.getMessage() for humans
 * }
 * }</pre>
 *
 * Thread-safe; share one per process.
 */
public final class ImageIntake implements AutoCloseable {
  private final IntakePolicy policy;
  private final ImageDecoder decoder;
  private final boolean ownsDecoder;
  private final HttpFetcher http;
  private final FileFetcher files;
  private final Semaphore inFlight;
  private final ExecutorService dnsPool;

  public ImageIntake(IntakePolicy policy) {
    this(builder(policy));
  }

  private ImageIntake(Builder b) {
    this.policy = b.policy;
    this.ownsDecoder = b.decoder == null;
    this.decoder = b.decoder == null ? new ImageDecoder(policy) : b.decoder;
    AtomicInteger n = new AtomicInteger();
    this.dnsPool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "intake-dns-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    SSLSocketFactory tls;
    try {
      tls = (b.sslContext == null ? SSLContext.getDefault() : b.sslContext).getSocketFactory();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
    this.http = new HttpFetcher(policy, new AddressPolicy(policy.allow()), b.resolver, b.connector, tls, dnsPool);
    this.files = new FileFetcher(policy);
    this.inFlight = new Semaphore(policy.maxInFlight());
  }

  public static Builder builder(IntakePolicy policy) {
    return new Builder(policy);
  }

  public IntakePolicy policy() {
    return policy;
  }

  public ImageDecoder decoder() {
    return decoder;
  }

  /** Fetches the bytes of a source, within the fetch limits. Does not decode. */
  public FetchedImage fetch(ImageSource source) throws IntakeException {
    long start = System.nanoTime();
    String label = source.label();
    if (source instanceof ImageSource.Inline inline) {
      byte[] bytes = inline.bytes();
      if (bytes.length == 0) {
        throw IntakeReason.EMPTY.exception(label);
      }
      if (bytes.length > policy.maxBytes()) {
        throw IntakeReason.TOO_LARGE.exception(label, "the image (" + bytes.length + " bytes)", policy.maxBytes());
      }
      return new FetchedImage(label, bytes, FetchedImage.sha256(bytes), Optional.empty(), label, 0,
          Duration.ofNanos(System.nanoTime() - start));
    }
    URI uri = ((ImageSource.Location) source).uri();
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") && !scheme.equals("file")) {
      throw ImageSource.schemeRefusal(label, scheme);
    }
    Deadline deadline = Deadline.after(policy.totalDeadline());
    try {
      if (!inFlight.tryAcquire(deadline.remainingMillis(), TimeUnit.MILLISECONDS)) {
        throw IntakeReason.BUSY.exception(label, policy.totalDeadline().toMillis(), policy.maxInFlight());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw IntakeReason.CANCELLED.exception(label, "waiting for a fetch slot");
    }
    try {
      return scheme.equals("file") ? files.fetch(uri, label, start) : http.fetch(uri, label, deadline, start);
    } finally {
      inFlight.release();
    }
  }

  /** Decodes bytes within the decode limits. */
  public DecodedImage decode(byte[] bytes, String label) throws IntakeException {
    return decoder.decode(bytes, label);
  }

  /** Fetches and decodes. */
  public LoadedImage load(ImageSource source) throws IntakeException {
    FetchedImage fetched = fetch(source);
    return new LoadedImage(fetched, decoder.decode(fetched.bytes(), fetched.source()));
  }

  @Override
  public void close() {
    dnsPool.shutdownNow();
    if (ownsDecoder) {
      decoder.close();
    }
  }

  /** Wiring for tests and special deployments; the defaults suit production. */
  public static final class Builder {
    private final IntakePolicy policy;
    private HostResolver resolver = HostResolver.system();
    private SocketConnector connector = SocketConnector.plain();
    private SSLContext sslContext;
    private ImageDecoder decoder;

    private Builder(IntakePolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
    }

    public Builder resolver(HostResolver resolver) {
      this.resolver = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    public Builder connector(SocketConnector connector) {
      this.connector = Objects.requireNonNull(connector, "connector");
      return this;
    }

    /** Trust material for https; the JVM's default trust store when unset. */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = sslContext;
      return this;
    }

    /** Share a decoder (and its decode slots) between intakes; the intake then does not close it. */
    public Builder decoder(ImageDecoder decoder) {
      this.decoder = decoder;
      return this;
    }

    public ImageIntake build() {
      return new ImageIntake(this);
    }
  }
}
