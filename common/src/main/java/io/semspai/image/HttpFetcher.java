package io.semspai.image;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 client built for hostile servers. It is not {@code java.net.http.HttpClient} because that client
 * resolves host names itself: here every hop is resolved once, every address is checked, and the socket is opened to
 * the checked literal address while the Host header, TLS SNI and certificate check keep the host name. Bodies are
 * streamed against the size cap (inflated size when Content-Encoding is set) and every read is bounded by the read
 * timeout and the fetch's total deadline.
 */
final class HttpFetcher {
  private static final Logger LOG = LoggerFactory.getLogger(HttpFetcher.class);
  private static final int MAX_HEAD_BYTES = 64 * 1024;
  private static final int MAX_LINE = 8 * 1024;
  private static final int MAX_HEADERS = 100;
  private static final String USER_AGENT = "semspai-intake/1";
  private static final String DEADLINE = "total deadline";

  private final IntakePolicy policy;
  private final AddressPolicy addresses;
  private final HostResolver resolver;
  private final SocketConnector connector;
  private final SSLSocketFactory tls;
  private final ExecutorService dnsPool;

  HttpFetcher(IntakePolicy policy, AddressPolicy addresses, HostResolver resolver, SocketConnector connector,
      SSLSocketFactory tls, ExecutorService dnsPool) {
    this.policy = policy;
    this.addresses = addresses;
    this.resolver = resolver;
    this.connector = connector;
    this.tls = tls;
    this.dnsPool = dnsPool;
  }

  /** What one request produced: a body or a redirect. */
  private record Response(byte[] body, Optional<String> contentType, String location) {}

  /** Carries an intake failure out of InputStream methods, which may only throw IOException. */
  private static final class Abort extends IOException {
    private static final long serialVersionUID = 1L;
    final transient IntakeException failure;

    Abort(IntakeException failure) {
      super(failure.getMessage());
      this.failure = failure;
    }
  }

  FetchedImage fetch(URI start, String label, Deadline deadline, long startNanos) throws IntakeException {
    URI current = start;
    for (int hop = 0; ; hop++) {
      HostName target = HostName.parse(current, label);
      List<InetAddress> checked = resolveAndCheck(target, label, deadline);
      Response r = withRetries(target, checked, label, deadline);
      if (r.location == null) {
        Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
        return new FetchedImage(label, r.body, FetchedImage.sha256(r.body), r.contentType,
            ImageSource.redact(current), hop, elapsed);
      }
      if (hop >= policy.maxRedirects()) {
        throw IntakeReason.REDIRECT_LIMIT.exception(label, policy.maxRedirects());
      }
      current = follow(current, r.location, label, target);
      LOG.debug("image {}: redirect {} to {}", label, hop + 1, ImageSource.redact(current));
    }
  }

  private URI follow(URI current, String location, String label, HostName from) throws IntakeException {
    URI next;
    try {
      next = current.resolve(new URI(location.trim()));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw IntakeReason.BAD_RESPONSE.exception(label, from.hostHeader(), "unparsable Location header");
    }
    String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      // A redirect must never turn a remote fetch into a local file read.
      throw ImageSource.schemeRefusal(label + " (redirected to " + ImageSource.redact(next) + ")", scheme);
    }
    return next; // a fragment, if any, is never sent: HostName uses only path and query
  }

  List<InetAddress> resolveAndCheck(HostName target, String label, Deadline deadline) throws IntakeException {
    List<InetAddress> resolved;
    if (target.literal() != null) {
      resolved = List.of(target.literal());
    } else {
      resolved = resolve(target.host(), label, deadline);
    }
    if (resolved.isEmpty()) {
      throw IntakeReason.DNS_FAILED.exception(label, target.host(), "no addresses");
    }
    // Every address must pass, not just the first: a resolver may rotate or reorder them.
    for (InetAddress a : resolved) {
      Optional<AddressPolicy.Refusal> refusal = addresses.check(target.host(), a);
      if (refusal.isPresent()) {
        throw IntakeReason.ADDRESS_NOT_ALLOWED.exception(label, target.host(), a.getHostAddress(),
            refusal.get().kind());
      }
    }
    return resolved;
  }

  private List<InetAddress> resolve(String host, String label, Deadline deadline) throws IntakeException {
    Future<List<InetAddress>> lookup = dnsPool.submit(() -> resolver.resolve(host));
    try {
      List<InetAddress> out = lookup.get(deadline.remainingMillis(), TimeUnit.MILLISECONDS);
      return out == null ? List.of() : List.copyOf(out);
    } catch (TimeoutException e) {
      lookup.cancel(true);
      throw IntakeReason.TIMEOUT.exception(label, "resolving " + host, deadline.total().toMillis(),
          IntakePolicy.TOTAL_DEADLINE);
    } catch (InterruptedException e) {
      lookup.cancel(true);
      Thread.currentThread().interrupt();
      throw IntakeReason.CANCELLED.exception(label, "resolving " + host);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String why = cause instanceof UnknownHostException ? "unknown host" : String.valueOf(cause);
      throw IntakeReason.DNS_FAILED.exception(cause, label, host, why);
    }
  }

  private Response withRetries(HostName target, List<InetAddress> checked, String label, Deadline deadline)
      throws IntakeException {
    int attempts = policy.maxRetries() + 1;
    for (int attempt = 1; ; attempt++) {
      try {
        return request(target, checked, label, deadline, attempt);
      } catch (IntakeException e) {
        boolean retryable = e.reason() == IntakeReason.HTTP_5XX || e.reason() == IntakeReason.TIMEOUT;
        if (!retryable || attempt >= attempts || deadline.expired()) {
          throw e;
        }
        long backoff = backoffMillis(attempt);
        if (backoff >= deadline.remainingMillis()) {
          throw e;
        }
        LOG.debug("image {}: attempt {} failed ({}), retrying in {} ms", label, attempt, e.reason(), backoff);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw IntakeReason.CANCELLED.exception(label, "waiting to retry");
        }
      }
    }
  }

  /** Exponential backoff with jitter: base·2^(n-1), capped, then a random 50–100 % of it. */
  long backoffMillis(int failedAttempts) {
    long base = policy.retryBackoff().toMillis();
    long cap = policy.retryBackoffMax().toMillis();
    long d = Math.min(cap, base << Math.min(20, failedAttempts - 1));
    return d / 2 + (d <= 1 ? 0 : ThreadLocalRandom.current().nextLong(d - d / 2 + 1));
  }

  private Response request(HostName target, List<InetAddress> checked, String label, Deadline deadline, int attempt)
      throws IntakeException {
    Socket socket = connect(target, checked, label, deadline);
    try (Socket raw = socket) {
      Socket io = target.https() ? handshake(raw, target, label, deadline) : raw;
      TimedInput in = new TimedInput(io, deadline, policy.readTimeout().toMillis());
      OutputStream out = io.getOutputStream();
      out.write(requestHead(target));
      out.flush();
      return readResponse(in, target, label, attempt);
    } catch (Abort a) {
      throw a.failure;
    } catch (IntakeException e) {
      throw e; // it is an IOException too; keep its own reason
    } catch (SocketTimeoutException e) {
      throw timeout(label, "reading from " + target.hostHeader(), deadline, DEADLINE.equals(e.getMessage()));
    } catch (IOException e) {
      throw IntakeReason.CONNECT_FAILED.exception(e, label, target.hostHeader(), describe(e));
    }
  }

  private IntakeException timeout(String label, String what, Deadline deadline, boolean deadlineBound) {
    if (deadlineBound || deadline.expired()) {
      return IntakeReason.TIMEOUT.exception(label, "the whole fetch", deadline.total().toMillis(),
          IntakePolicy.TOTAL_DEADLINE);
    }
    return IntakeReason.TIMEOUT.exception(label, what, policy.readTimeout().toMillis(), IntakePolicy.READ_TIMEOUT);
  }

  private Socket connect(HostName target, List<InetAddress> checked, String label, Deadline deadline)
      throws IntakeException {
    IOException last = null;
    boolean timedOut = false;
    boolean deadlineBound = false;
    for (InetAddress address : checked) {
      if (deadline.expired()) {
        break;
      }
      long limit = policy.connectTimeout().toMillis();
      boolean bound = deadline.binds(limit);
      try {
        return connector.connect(new InetSocketAddress(address, target.port()), deadline.clamp(limit));
      } catch (SocketTimeoutException e) {
        timedOut = true;
        deadlineBound = bound;
        last = e;
      } catch (IOException e) {
        last = e;
      }
    }
    if (deadline.expired() || (timedOut && deadlineBound)) {
      throw IntakeReason.TIMEOUT.exception(label, "the whole fetch", deadline.total().toMillis(),
          IntakePolicy.TOTAL_DEADLINE);
    }
    if (timedOut) {
      throw IntakeReason.TIMEOUT.exception(last, label, "connecting to " + target.hostHeader(),
          policy.connectTimeout().toMillis(), IntakePolicy.CONNECT_TIMEOUT);
    }
    throw IntakeReason.CONNECT_FAILED.exception(last, label, target.hostHeader(),
        last == null ? "no address" : describe(last));
  }

  private Socket handshake(Socket raw, HostName target, String label, Deadline deadline) throws IntakeException {
    boolean bound = deadline.binds(policy.connectTimeout().toMillis());
    try {
      SSLSocket ssl = (SSLSocket) tls.createSocket(raw, target.host(), target.port(), true);
      SSLParameters params = ssl.getSSLParameters();
      // Verify the certificate against the host name of the URI, although the socket went to a literal address.
      params.setEndpointIdentificationAlgorithm("HTTPS");
      if (target.literal() == null) {
        String sni = target.host().endsWith(".") ? target.host().substring(0, target.host().length() - 1)
            : target.host();
        try {
          params.setServerNames(List.of(new SNIHostName(sni)));
        } catch (IllegalArgumentException e) {
          LOG.debug("image {}: host {} is not a valid SNI name; sending none", label, sni);
        }
      }
      ssl.setSSLParameters(params);
      raw.setSoTimeout(deadline.clamp(policy.connectTimeout().toMillis()));
      ssl.startHandshake();
      return ssl;
    } catch (SocketTimeoutException e) {
      if (bound || deadline.expired()) {
        throw IntakeReason.TIMEOUT.exception(e, label, "the whole fetch", deadline.total().toMillis(),
            IntakePolicy.TOTAL_DEADLINE);
      }
      throw IntakeReason.TIMEOUT.exception(e, label, "the TLS handshake with " + target.hostHeader(),
          policy.connectTimeout().toMillis(), IntakePolicy.CONNECT_TIMEOUT);
    } catch (SSLException e) {
      throw IntakeReason.TLS_FAILED.exception(e, label, target.hostHeader(), describe(e));
    } catch (IOException e) {
      throw IntakeReason.CONNECT_FAILED.exception(e, label, target.hostHeader(), describe(e));
    }
  }

  private static byte[] requestHead(HostName target) {
    String head = "GET " + target.requestTarget() + " HTTP/1.1\r\n"
        + "Host: " + target.hostHeader() + "\r\n"
        + "User-Agent: " + USER_AGENT + "\r\n"
        + "Accept: image/*, */*;q=0.5\r\n"
        + "Accept-Encoding: gzip, deflate\r\n"
        + "Connection: close\r\n\r\n";
    return head.getBytes(StandardCharsets.US_ASCII);
  }

  private Response readResponse(TimedInput in, HostName target, String label, int attempt) throws IOException {
    HeadReader head = new HeadReader(in, label, target.hostHeader());
    int status;
    Map<String, List<String>> headers;
    do {
      status = head.statusLine();
      headers = head.headers();
      if (status == 101) {
        throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(), "unexpected 101 upgrade"));
      }
    } while (status >= 100 && status < 200);

    if (status >= 300 && status < 400) {
      List<String> loc = headers.getOrDefault("location", List.of());
      if (status == 304 || loc.isEmpty()) {
        throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(),
            "HTTP " + status + (loc.isEmpty() ? " without Location" : "")));
      }
      return new Response(null, Optional.empty(), loc.get(0));
    }
    if (status >= 400 && status < 500) {
      throw abort(IntakeReason.HTTP_4XX.exception(label, status, target.hostHeader()));
    }
    if (status >= 500 && status < 600) {
      throw abort(IntakeReason.HTTP_5XX.exception(label, status, target.hostHeader(), attempt));
    }
    if (status < 200 || status >= 300 || status == 206) {
      throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(), "HTTP " + status));
    }
    if (status == 204 || status == 205) {
      throw abort(IntakeReason.EMPTY.exception(label));
    }
    Optional<String> contentType = headers.getOrDefault("content-type", List.of()).stream().findFirst();
    byte[] body = readBody(in, headers, label, target);
    if (body.length == 0) {
      throw abort(IntakeReason.EMPTY.exception(label));
    }
    return new Response(body, contentType, null);
  }

  private byte[] readBody(InputStream in, Map<String, List<String>> headers, String label, HostName target)
      throws IOException {
    long max = policy.maxBytes();
    List<String> encodings = tokens(headers.get("content-encoding"));
    encodings.removeIf(e -> e.equals("identity"));
    List<String> transfer = tokens(headers.get("transfer-encoding"));
    Long length = contentLength(headers.get("content-length"), label, target);

    InputStream framed;
    long expected = -1;
    if (!transfer.isEmpty()) {
      if (!transfer.equals(List.of("chunked"))) {
        throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(),
            "unsupported Transfer-Encoding " + transfer));
      }
      framed = new Chunked(in, label, target.hostHeader());
    } else if (length != null) {
      if (encodings.isEmpty() && length > max) {
        throw abort(IntakeReason.TOO_LARGE.exception(label, "Content-Length " + length, max));
      }
      framed = new Fixed(in, length, label);
      expected = length;
    } else {
      framed = in;
    }
    // Compressed bytes on the wire are capped too, so a stream of empty deflate blocks cannot run forever.
    long wireCap = encodings.isEmpty() ? max : max + max / 8 + 65_536;
    framed = new Capped(framed, wireCap, label, encodings.isEmpty() ? "the body" : "the compressed body");

    if (encodings.size() > 2) {
      throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(),
          "too many Content-Encodings " + encodings));
    }
    String what = encodings.isEmpty() ? "the body" : "the body inflated from " + String.join("+", encodings);
    try {
      InputStream body = framed;
      for (int i = encodings.size() - 1; i >= 0; i--) {
        String e = encodings.get(i);
        body = switch (e) {
          case "gzip", "x-gzip" -> new GZIPInputStream(body, 8192);
          case "deflate" -> deflate(body);
          default -> throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(),
              "unsupported Content-Encoding '" + e + "'"));
        };
      }
      return readCapped(body, max, expected > 0 && encodings.isEmpty() ? (int) expected : 65_536, label, what);
    } catch (ZipException | java.io.EOFException e) {
      if (encodings.isEmpty()) {
        throw e;
      }
      throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(),
          "bad " + String.join("+", encodings) + " body: " + e));
    }
  }

  /** HTTP "deflate" should be zlib-wrapped, but servers also send raw deflate; the first two bytes tell. */
  private static InputStream deflate(InputStream in) throws IOException {
    PushbackInputStream p = new PushbackInputStream(in, 2);
    int b0 = p.read();
    int b1 = b0 < 0 ? -1 : p.read();
    if (b1 >= 0) {
      p.unread(b1);
    }
    if (b0 >= 0) {
      p.unread(b0);
    }
    boolean zlib = b0 >= 0 && b1 >= 0 && (b0 & 0x0F) == 8 && ((b0 << 8) | b1) % 31 == 0;
    return new InflaterInputStream(p, new Inflater(!zlib), 8192);
  }

  private static byte[] readCapped(InputStream in, long max, int hint, String label, String what) throws IOException {
    int cap = (int) Math.min(max + 1, Integer.MAX_VALUE - 8);
    byte[] buf = new byte[Math.max(1, Math.min(hint, cap))];
    int n = 0;
    while (true) {
      if (n == buf.length) {
        if (n >= cap) {
          throw abort(IntakeReason.TOO_LARGE.exception(label, what, max));
        }
        buf = java.util.Arrays.copyOf(buf, (int) Math.min(cap, Math.max(65_536L, 2L * buf.length)));
      }
      int r = in.read(buf, n, buf.length - n);
      if (r < 0) {
        break;
      }
      n += r;
      if (n > max) {
        throw abort(IntakeReason.TOO_LARGE.exception(label, what, max));
      }
    }
    return n == buf.length ? buf : java.util.Arrays.copyOf(buf, n);
  }

  private static Long contentLength(List<String> values, String label, HostName target) throws Abort {
    if (values == null || values.isEmpty()) {
      return null;
    }
    Long seen = null;
    for (String v : values) {
      for (String part : v.split(",")) {
        String p = part.trim();
        if (!p.matches("\\d{1,18}")) {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(), "bad Content-Length"));
        }
        long n = Long.parseLong(p);
        if (seen != null && seen != n) {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, target.hostHeader(),
              "conflicting Content-Length values"));
        }
        seen = n;
      }
    }
    return seen;
  }

  private static List<String> tokens(List<String> values) {
    List<String> out = new ArrayList<>();
    if (values != null) {
      for (String v : values) {
        for (String t : v.split(",")) {
          if (!t.isBlank()) {
            out.add(t.trim().toLowerCase(Locale.ROOT));
          }
        }
      }
    }
    return out;
  }

  private static Abort abort(IntakeException e) {
    return new Abort(e);
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** Reads the status line and headers with hard limits on line length, count and total size. */
  private static final class HeadReader {
    private final InputStream in;
    private final String label;
    private final String host;
    private int total;

    HeadReader(InputStream in, String label, String host) {
      this.in = in;
      this.label = label;
      this.host = host;
    }

    int statusLine() throws IOException {
      String line = line();
      if (line == null) {
        throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "connection closed before a status line"));
      }
      if (!line.matches("HTTP/1\\.[01] \\d{3}( .*)?")) {
        throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "not an HTTP/1.x status line"));
      }
      return Integer.parseInt(line.substring(9, 12));
    }

    Map<String, List<String>> headers() throws IOException {
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (int count = 0; ; count++) {
        String line = line();
        if (line == null) {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "connection closed inside the headers"));
        }
        if (line.isEmpty()) {
          return headers;
        }
        if (count >= MAX_HEADERS) {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "more than " + MAX_HEADERS + " headers"));
        }
        int colon = line.indexOf(':');
        if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "malformed header line"));
        }
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        headers.computeIfAbsent(name, k -> new ArrayList<>()).add(line.substring(colon + 1).trim());
      }
    }

    /** One line without its CR LF, or null at EOF before any byte. */
    private String line() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream(128);
      while (true) {
        int c = in.read();
        if (c < 0) {
          if (b.size() == 0) {
            return null;
          }
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "connection closed inside the headers"));
        }
        if (++total > MAX_HEAD_BYTES) {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "headers exceed " + MAX_HEAD_BYTES + " bytes"));
        }
        if (c == '\n') {
          byte[] bytes = b.toByteArray();
          int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
          return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
        }
        if (b.size() >= MAX_LINE) {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "header line longer than " + MAX_LINE));
        }
        b.write(c);
      }
    }
  }

  /**
   * The socket's input, buffered, where every read waits at most the read timeout and never past the deadline. A
   * server that trickles one byte at a time therefore still ends at the deadline.
   */
  private static final class TimedInput extends InputStream {
    private final Socket socket;
    private final InputStream in;
    private final Deadline deadline;
    private final long readTimeout;
    private final byte[] buf = new byte[16 * 1024];
    private int pos;
    private int limit;

    TimedInput(Socket socket, Deadline deadline, long readTimeout) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.deadline = deadline;
      this.readTimeout = readTimeout;
    }

    private boolean fill() throws IOException {
      if (deadline.expired()) {
        throw new SocketTimeoutException(DEADLINE);
      }
      boolean bound = deadline.binds(readTimeout);
      socket.setSoTimeout(deadline.clamp(readTimeout));
      int n;
      try {
        n = in.read(buf, 0, buf.length);
      } catch (SocketTimeoutException e) {
        // Say which limit ended the wait: the read timeout, or the deadline that cut it short.
        throw new SocketTimeoutException(bound ? DEADLINE : "read timeout");
      }
      if (n < 0) {
        return false;
      }
      pos = 0;
      limit = n;
      return true;
    }

    @Override
    public int read() throws IOException {
      if (pos >= limit && !fill()) {
        return -1;
      }
      return buf[pos++] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (pos >= limit && !fill()) {
        return -1;
      }
      int n = Math.min(len, limit - pos);
      System.arraycopy(buf, pos, b, off, n);
      pos += n;
      return n;
    }
  }

  /**
   * A body filter whose single-byte reads and skips go through its bulk read, so each limit is checked in one
   * method. It promises no bytes as available (the wrapped stream's count may run past the body's end) and no mark.
   */
  private abstract static class BulkFilter extends FilterInputStream {
    BulkFilter(InputStream in) {
      super(in);
    }

    @Override
    public final int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public abstract int read(byte[] b, int off, int len) throws IOException;

    @Override
    public int available() {
      return 0;
    }

    /** Skips by reading, so skipped bytes count against the limits too. */
    @Override
    public long skip(long n) throws IOException {
      byte[] sink = new byte[(int) Math.min(8192, Math.max(0, n))];
      long skipped = 0;
      while (skipped < n) {
        int r = read(sink, 0, (int) Math.min(sink.length, n - skipped));
        if (r < 0) {
          break;
        }
        skipped += r;
      }
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }

  /** Exactly {@code length} bytes; an early EOF is a truncated body. */
  private static final class Fixed extends BulkFilter {
    private long left;
    private final long length;
    private final String label;

    Fixed(InputStream in, long length, String label) {
      super(in);
      this.left = length;
      this.length = length;
      this.label = label;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw abort(IntakeReason.TRUNCATED.exception(label, "HTTP body",
            "connection closed after " + (length - left) + " of " + length + " bytes"));
      }
      left -= n;
      return n;
    }
  }

  /** Counts bytes and stops at the cap. */
  private static final class Capped extends BulkFilter {
    private final long cap;
    private final String label;
    private final String what;
    private long count;

    Capped(InputStream in, long cap, String label, String what) {
      super(in);
      this.cap = cap;
      this.label = label;
      this.what = what;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        count += n;
        if (count > cap) {
          throw abort(IntakeReason.TOO_LARGE.exception(label, what, cap));
        }
      }
      return n;
    }
  }

  /** Transfer-Encoding: chunked, with bounded size lines and trailers. */
  private static final class Chunked extends BulkFilter {
    private final String label;
    private final String host;
    private long left;
    private boolean done;

    Chunked(InputStream in, String label, String host) {
      super(in);
      this.label = label;
      this.host = host;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      if (left == 0) {
        left = nextSize();
        if (left == 0) {
          while (!line().isEmpty()) {
            // trailers are read and ignored
          }
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw abort(IntakeReason.TRUNCATED.exception(label, "HTTP body", "connection closed inside a chunk"));
      }
      left -= n;
      if (left == 0 && !line().isEmpty()) {
        throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "chunk not followed by CRLF"));
      }
      return n;
    }

    private long nextSize() throws IOException {
      String l = line();
      int semi = l.indexOf(';');
      String hex = (semi >= 0 ? l.substring(0, semi) : l).trim();
      if (!hex.matches("[0-9a-fA-F]{1,15}")) {
        throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "bad chunk size line"));
      }
      return Long.parseLong(hex, 16);
    }

    private String line() throws IOException {
      StringBuilder s = new StringBuilder();
      while (true) {
        int c = in.read();
        if (c < 0) {
          throw abort(IntakeReason.TRUNCATED.exception(label, "HTTP body", "connection closed inside chunk framing"));
        }
        if (c == '\n') {
          int len = s.length();
          return len > 0 && s.charAt(len - 1) == '\r' ? s.substring(0, len - 1) : s.toString();
        }
        if (s.length() >= 4096) {
          throw abort(IntakeReason.BAD_RESPONSE.exception(label, host, "chunk framing line too long"));
        }
        s.append((char) c);
      }
    }
  }

}
