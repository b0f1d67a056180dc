package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Source parsing, host-literal parsing, the address policy and the configuration keys, without any network. */
class SourceAndPolicyTest {

  @Test
  void otherSchemesAreRefusedAndS3SaysItIsPlanned() {
    IntakeException s3 = assertThrows(IntakeException.class, () -> ImageSource.parse("s3://bucket/key.jpg"));
    assertEquals(IntakeReason.SCHEME_NOT_ALLOWED, s3.reason());
    assertTrue(s3.getMessage().contains("planned"), s3.getMessage());
    for (String u : List.of("ftp://x/y.jpg", "gopher://x/", "data:image/png;base64,AAAA", "jar:file:/x!/y",
        "javascript:alert(1)")) {
      assertEquals(IntakeReason.SCHEME_NOT_ALLOWED,
          assertThrows(IntakeException.class, () -> ImageSource.parse(u)).reason(), u);
    }
    for (String u : List.of("not a uri", "relative/path.jpg", "/absolute/without/scheme.jpg", "http://[::1")) {
      assertEquals(IntakeReason.BAD_URI, assertThrows(IntakeException.class, () -> ImageSource.parse(u)).reason(), u);
    }
  }

  @Test
  void labelsHideQueriesAndCredentials() throws IntakeException {
    assertEquals("https://cdn.example/a/b.jpg?…",
        ImageSource.parse("https://cdn.example/a/b.jpg?X-Amz-Signature=secret").label());
    assertEquals("http://…@h.example/x", ImageSource.redact(URI.create("http://user:pw@h.example/x")));
    IntakeException e = assertThrows(IntakeException.class,
        () -> new ImageIntake(IntakePolicy.defaults()).fetch(ImageSource.parse("http://u:p@h.example/x?k=secret")));
    assertFalse(e.getMessage().contains("secret") || e.getMessage().contains("u:p"), e.getMessage());
  }

  @Test
  void inlineBytesAreHashedAndCapped() throws IntakeException {
    byte[] png = CorpusTest.bytes("base.png");
    try (ImageIntake intake = new ImageIntake(IntakePolicy.builder().maxBytes(png.length).build())) {
      FetchedImage f = intake.fetch(ImageSource.inline("record 7", png));
      assertArrayEquals(png, f.bytes());
      assertEquals(64, f.sha256().length());
      assertEquals(IntakeReason.TOO_LARGE, assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.inline("big", new byte[png.length + 1]))).reason());
      assertEquals(IntakeReason.EMPTY, assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.inline("none", new byte[0]))).reason());
      LoadedImage img = intake.load(ImageSource.inline("record 7", png));
      assertEquals(ImageFormat.PNG, img.decoded().format());
      assertEquals(f.sha256(), img.fetched().sha256());
    }
  }

  @ParameterizedTest
  @CsvSource({
    "2130706433, 127.0.0.1", "0177.0.0.1, 127.0.0.1", "0x7f.0.0.1, 127.0.0.1", "0x7F000001, 127.0.0.1",
    "017700000001, 127.0.0.1", "127.1, 127.0.0.1", "127.0.1, 127.0.0.1", "0x7f.1, 127.0.0.1",
    "127.0.0.1., 127.0.0.1", "0, 0.0.0.0", "0x, 0.0.0.0", "10.0x10.0377.1, 10.16.255.1", "1.2.3.4, 1.2.3.4",
    "4294967295, 255.255.255.255", "0xa9fea9fe, 169.254.169.254", "2852039166, 169.254.169.254"
  })
  void numericHostsParseTheWayResolversDo(String host, String expected) throws Exception {
    HostName h = HostName.parse(URI.create("http://" + host + "/x"), "t");
    assertEquals(InetAddress.getByName(expected), h.literal());
    assertEquals(expected, h.host());
  }

  @ParameterizedTest
  @CsvSource({"256.0.0.1", "1.2.3.4.5", "08.0.0.1", "0x1g.0.0.1", "4294967296", "1.256.0.0", "1.2.65536",
      "example.0x", "1..2.3"})
  void hostsThatLookNumericButAreNotAddressesAreRefused(String host) {
    assertEquals(IntakeReason.BAD_URI, assertThrows(IntakeException.class,
        () -> HostName.parse(URI.create("http://" + host + "/x"), "t")).reason());
  }

  @Test
  void namesStayNamesAndIpv6LiteralsNeedNoLookup() throws Exception {
    HostName n = HostName.parse(URI.create("https://Images.Example.COM:8443/a%20b.jpg?x=1"), "t");
    assertEquals("images.example.com", n.host());
    assertEquals(null, n.literal());
    assertEquals(8443, n.port());
    assertEquals("/a%20b.jpg?x=1", n.requestTarget());
    assertEquals("images.example.com:8443", n.hostHeader());
    HostName v6 = HostName.parse(URI.create("http://[2001:db8::1]/"), "t");
    assertEquals("[2001:db8::1]", v6.hostHeader());
    assertEquals(InetAddress.getByName("2001:db8::1"), v6.literal());
    HostName idn = HostName.parse(new URI("http://bücher.example/"), "t");
    assertEquals("xn--bcher-kva.example", idn.host());
  }

  @ParameterizedTest
  @CsvSource({
    "127.0.0.1, loopback", "127.255.255.254, loopback", "10.1.2.3, private", "172.16.0.1, private",
    "172.31.255.255, private", "192.168.1.1, private", "169.254.169.254, link-local (cloud metadata)",
    "100.64.0.1, carrier-grade NAT (shared)", "0.0.0.0, unspecified (this-network)",
    "255.255.255.255, reserved or broadcast", "224.0.0.251, multicast", "192.0.2.5, documentation",
    "198.18.0.1, benchmarking", "::1, loopback", "::, unspecified", "fe80::1, link-local",
    "fd00:ec2::254, unique-local (private)", "fc00::1, unique-local (private)", "ff02::1, multicast",
    "fec0::1, site-local", "2001:db8::1, documentation", "::ffff:10.0.0.1, private",
    "::a9fe:a9fe, link-local (cloud metadata) (embedded in IPv6)",
    "64:ff9b::a9fe:a9fe, link-local (cloud metadata) (embedded in IPv6)",
    "2002:c0a8:0101::1, private (embedded in IPv6)", "2001:0:4136:e378::1, Teredo"
  })
  void internalAddressesAreRefusedWithTheirKind(String address, String kind) {
    Optional<AddressPolicy.Refusal> r = new AddressPolicy(List.of()).check("host.test", TestNet.ip(address));
    assertTrue(r.isPresent(), address);
    assertEquals(kind, r.get().kind());
  }

  @ParameterizedTest
  @CsvSource({"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2606:4700::1111",
      "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808"})
  void publicAddressesPass(String address) {
    assertEquals(Optional.empty(), new AddressPolicy(List.of()).check("host.test", TestNet.ip(address)));
  }

  @Test
  void theAllowlistTakesCidrsAndHosts() {
    AddressPolicy p = new AddressPolicy(List.of("10.20.0.0/16", "::1", "images.corp", "*.cdn.corp"));
    assertEquals(Optional.empty(), p.check("x", TestNet.ip("10.20.3.4")));
    assertTrue(p.check("x", TestNet.ip("10.21.3.4")).isPresent());
    assertEquals(Optional.empty(), p.check("x", TestNet.ip("::1")));
    assertTrue(p.check("x", TestNet.ip("127.0.0.1")).isPresent());
    assertEquals(Optional.empty(), p.check("images.corp", TestNet.ip("192.168.7.7")));
    assertEquals(Optional.empty(), p.check("a.cdn.corp", TestNet.ip("192.168.7.7")));
    assertTrue(p.check("cdn.corp.evil.test", TestNet.ip("192.168.7.7")).isPresent());
    assertTrue(p.check("evilcdn.corp", TestNet.ip("192.168.7.7")).isPresent());
    assertThrows(IllegalArgumentException.class, () -> IntakePolicy.builder().allow(List.of("10.0.0.0/33")).build());
    assertThrows(IllegalArgumentException.class, () -> IntakePolicy.builder().allow(List.of("not a host!")).build());
  }

  @Test
  void configurationKeysParseAndRoundTrip() {
    IntakePolicy d = IntakePolicy.defaults();
    assertEquals(20L << 20, d.maxBytes());
    assertEquals(40_000_000L, d.maxPixels());
    assertFalse(d.applyExifOrientation());
    assertEquals(List.of(), d.allow());
    assertEquals(List.of(), d.fileRoots());

    IntakePolicy p = IntakePolicy.fromMap(Map.ofEntries(
        Map.entry("intake.max-bytes", "8MiB"), Map.entry("intake.max-pixels", "12_000_000"),
        Map.entry("intake.max-width", "10000"), Map.entry("intake.max-height", "9000"),
        Map.entry("intake.connect-timeout", "750ms"), Map.entry("intake.read-timeout", "PT3S"),
        Map.entry("intake.total-deadline", "1m"), Map.entry("intake.max-redirects", "2"),
        Map.entry("intake.max-retries", "0"), Map.entry("intake.retry-backoff", "50ms"),
        Map.entry("intake.retry-backoff-max", "1s"), Map.entry("intake.max-in-flight", "8"),
        Map.entry("intake.file-roots", "/data/a, /data/b"), Map.entry("intake.allow", "10.0.0.0/8, images.corp"),
        Map.entry("intake.apply-exif-orientation", "true"), Map.entry("intake.decode-timeout", "5s"),
        Map.entry("intake.max-decodes-in-flight", "3"), Map.entry("detector.other", "ignored")));
    assertEquals(8L << 20, p.maxBytes());
    assertEquals(12_000_000L, p.maxPixels());
    assertEquals(Duration.ofMillis(750), p.connectTimeout());
    assertEquals(Duration.ofSeconds(3), p.readTimeout());
    assertEquals(Duration.ofMinutes(1), p.totalDeadline());
    assertEquals(List.of(Path.of("/data/a"), Path.of("/data/b")), p.fileRoots());
    assertEquals(List.of("10.0.0.0/8", "images.corp"), p.allow());
    assertTrue(p.applyExifOrientation());
    assertEquals(3, p.maxDecodesInFlight());
    assertEquals(p, IntakePolicy.fromMap(p.toMap()));
    assertEquals(List.copyOf(p.toMap().keySet()), IntakePolicy.KEYS);

    IllegalArgumentException typo = assertThrows(IllegalArgumentException.class,
        () -> IntakePolicy.fromMap(Map.of("intake.max-pixel", "5")));
    assertTrue(typo.getMessage().contains("intake.max-pixel"), typo.getMessage());
    assertThrows(IllegalArgumentException.class, () -> IntakePolicy.fromMap(Map.of("intake.max-bytes", "lots")));
    assertThrows(IllegalArgumentException.class, () -> IntakePolicy.fromMap(Map.of("intake.file-roots", "rel/dir")));
    assertThrows(IllegalArgumentException.class, () -> IntakePolicy.fromMap(Map.of("intake.max-pixels", "0")));
  }

  @Test
  void everyReasonHasAMeaningAndATemplateNamingTheInput() {
    for (IntakeReason r : IntakeReason.values()) {
      assertFalse(r.meaning().isBlank(), r.name());
      assertTrue(r.template().startsWith("image %s: "), r.name());
    }
    assertEquals(EnumSet.of(IntakeReason.TIMEOUT, IntakeReason.HTTP_5XX, IntakeReason.BUSY,
        IntakeReason.CONNECT_FAILED, IntakeReason.DNS_FAILED, IntakeReason.DECODE_TIMEOUT),
        EnumSet.copyOf(List.of(IntakeReason.values()).stream().filter(IntakeReason::transientFailure).toList()));
    assertEquals("image https://x/y.png: 52000×38000 px exceeds max-pixels 40000000 (set intake.max-pixels)",
        IntakeReason.TOO_MANY_PIXELS.message("https://x/y.png", 52000, 38000, 40_000_000L));
  }
}
