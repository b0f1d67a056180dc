package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SSRF: a canary HTTP server on loopback must see zero requests when the policy forbids loopback, however the address
 * is spelled, and serve normally when loopback is allowlisted. Non-loopback targets are checked with an injected
 * resolver and a connector that refuses anything but loopback, so no test can send a packet elsewhere.
 */
class SsrfTest {
  private TestNet.Canary canary;
  private TestNet.MapResolver resolver;
  private TestNet.LoopbackOnly connector;
  private byte[] png;

  @BeforeEach
  void start() throws IOException {
    png = CorpusTest.bytes("base.png");
    canary = new TestNet.Canary("127.0.0.1", png);
    resolver = new TestNet.MapResolver().put("localhost", "127.0.0.1").put("canary.test", "127.0.0.1");
    connector = new TestNet.LoopbackOnly();
  }

  @AfterEach
  void stop() {
    canary.close();
  }

  private ImageIntake intake(String... allow) {
    IntakePolicy policy = IntakePolicy.builder().allow(List.of(allow)).maxRetries(0).build();
    return ImageIntake.builder(policy).resolver(resolver).connector(connector).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "017700000001", "127.1", "127.0.1",
    "0x7f.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "localhost", "LOCALHOST",
    "0.0.0.0", "0", "[::1]", "[::]", "[0:0:0:0:0:0:0:1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]"
  })
  void loopbackInAnySpellingIsRefusedAndTheCanarySeesNothing(String host) {
    try (ImageIntake intake = intake()) {
      IntakeException e = assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.parse("http://" + host + ":" + canary.port() + "/img.png")));
      assertEquals(IntakeReason.ADDRESS_NOT_ALLOWED, e.reason(), e.getMessage());
      assertTrue(e.getMessage().contains("intake.allow"), e.getMessage());
    }
    assertEquals(0, canary.requests.get(), "the canary must not be reached");
    assertEquals(List.of(), connector.attempts, "no connection may even be attempted");
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "[::ffff:127.0.0.1]",
      "localhost", "0.0.0.0"})
  void allowlistedLoopbackIsServedNormally(String host) throws IntakeException {
    try (ImageIntake intake = intake("127.0.0.0/8", "0.0.0.0/32")) {
      FetchedImage f = intake.fetch(ImageSource.parse("http://" + host + ":" + canary.port() + "/img.png"));
      assertArrayEquals(png, f.bytes());
      assertEquals(FetchedImage.sha256(png), f.sha256());
      assertEquals("image/png", f.contentType().orElseThrow());
    }
    assertEquals(1, canary.requests.get());
  }

  @Test
  void ipv6LoopbackIsRefusedUnlessAllowlisted() throws Exception {
    TestNet.Canary v6;
    try {
      v6 = new TestNet.Canary("::1", png);
    } catch (IOException e) {
      assumeTrue(false, "no IPv6 loopback here: " + e);
      return;
    }
    try (v6) {
      String url = "http://[::1]:" + v6.port() + "/img.png";
      try (ImageIntake denied = intake("127.0.0.0/8")) {
        assertEquals(IntakeReason.ADDRESS_NOT_ALLOWED,
            assertThrows(IntakeException.class, () -> denied.fetch(ImageSource.parse(url))).reason());
      }
      assertEquals(0, v6.requests.get());
      try (ImageIntake allowed = intake("::1/128")) {
        assertArrayEquals(png, allowed.fetch(ImageSource.parse(url)).bytes());
      }
      assertEquals(1, v6.requests.get());
    }
  }

  @Test
  void aHostAllowlistDoesNotCarryOverToARedirectTarget() {
    String target = "http://0x7f.0.0.1:" + canary.port() + "/img.png";
    String url = "http://canary.test:" + canary.port() + "/redirect?to=" + enc(target);
    try (ImageIntake intake = intake("canary.test")) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(url)));
      assertEquals(IntakeReason.ADDRESS_NOT_ALLOWED, e.reason(), e.getMessage());
    }
    assertEquals(List.of("/redirect?to=" + enc(target)), canary.paths, "only the redirect itself was served");
  }

  @Test
  void redirectsToOtherLoopbackFormsAreFollowedWhenAllowed() throws IntakeException {
    String target = "http://2130706433:" + canary.port() + "/img.png";
    String url = "http://127.0.0.1:" + canary.port() + "/redirect?to=" + enc(target);
    try (ImageIntake intake = intake("127.0.0.0/8")) {
      FetchedImage f = intake.fetch(ImageSource.parse(url));
      assertArrayEquals(png, f.bytes());
      assertEquals(1, f.redirects());
      assertEquals("http://2130706433:" + canary.port() + "/img.png", f.location());
    }
    assertEquals(2, canary.requests.get());
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/meta-data/", "http://10.0.0.1/",
    "http://192.168.1.1/", "http://172.16.5.4/", "http://100.64.0.1/", "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/", "http://2852039166/", "http://0xa9fea9fe/",
    "http://metadata.test/", "http://rebind.test/", "http://224.0.0.1/", "http://255.255.255.255/"
  })
  void redirectsToInternalTargetsAreRefusedWithoutConnecting(String target) {
    resolver.put("metadata.test", "169.254.169.254").put("rebind.test", "93.184.216.34", "10.0.0.7");
    String url = "http://127.0.0.1:" + canary.port() + "/redirect?to=" + enc(target);
    try (ImageIntake intake = intake("127.0.0.0/8")) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(url)));
      assertEquals(IntakeReason.ADDRESS_NOT_ALLOWED, e.reason(), e.getMessage());
    }
    assertEquals(1, canary.requests.get());
    assertEquals(1, connector.attempts.size(), "only the loopback canary was connected to");
  }

  @Test
  void everyResolvedAddressIsCheckedAndNoneIsConnectedTo() {
    resolver.put("mixed.test", "93.184.216.34", "192.168.0.10").put("metadata.test", "169.254.169.254")
        .put("six.test", "2606:4700::1111", "fc00::5");
    try (ImageIntake intake = intake()) {
      for (String host : List.of("mixed.test", "metadata.test", "six.test")) {
        IntakeException e = assertThrows(IntakeException.class,
            () -> intake.fetch(ImageSource.parse("http://" + host + "/x.jpg")));
        assertEquals(IntakeReason.ADDRESS_NOT_ALLOWED, e.reason(), e.getMessage());
      }
    }
    assertEquals(List.of(), connector.attempts);
  }

  @Test
  void theConnectionGoesToTheAddressThatWasChecked() {
    // A resolver that answers differently the second time (DNS rebinding) must not be asked twice, and the connect
    // must use the literal address that passed. The connector records and refuses, so nothing leaves the machine.
    List<InetSocketAddress> asked = new ArrayList<>();
    HostResolver rebinding = new HostResolver() {
      int calls;

      @Override
      public List<java.net.InetAddress> resolve(String host) {
        return List.of(TestNet.ip(calls++ == 0 ? "93.184.216.34" : "127.0.0.1"));
      }
    };
    SocketConnector recording = (address, timeout) -> {
      asked.add(address);
      throw new ConnectException("refused by the test");
    };
    IntakePolicy policy = IntakePolicy.builder().maxRetries(2).build();
    try (ImageIntake intake = ImageIntake.builder(policy).resolver(rebinding).connector(recording).build()) {
      IntakeException e = assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.parse("https://public.test/cat.jpg")));
      assertEquals(IntakeReason.CONNECT_FAILED, e.reason(), e.getMessage());
    }
    assertEquals(1, asked.size());
    assertEquals("93.184.216.34", asked.get(0).getAddress().getHostAddress());
    assertEquals(443, asked.get(0).getPort());
    assertTrue(!asked.get(0).isUnresolved());
  }

  @Test
  void unknownHostsAreDnsFailures() {
    try (ImageIntake intake = intake()) {
      IntakeException e = assertThrows(IntakeException.class,
          () -> intake.fetch(ImageSource.parse("http://no-such-host.test/x.png")));
      assertEquals(IntakeReason.DNS_FAILED, e.reason());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://256.0.0.1/", "http://1.2.3.4.5/", "http://08.0.0.1/", "http://0x1g.0.0.1/",
      "http://user:pw@127.0.0.1/", "http://[fe80::1%25eth0]/", "http://127.0.0.1:99999/", "http:///nohost",
      "http://exa%6dple.com/"})
  void malformedHostsAreBadUris(String url) {
    try (ImageIntake intake = intake("0.0.0.0/0", "::/0")) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(url)));
      assertEquals(IntakeReason.BAD_URI, e.reason(), e.getMessage());
    }
    assertEquals(List.of(), connector.attempts);
  }

  @Test
  void redirectToAFileUriIsRefused() {
    String url = "http://127.0.0.1:" + canary.port() + "/redirect?to=" + enc("file:///etc/passwd");
    try (ImageIntake intake = intake("127.0.0.0/8")) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(url)));
      assertEquals(IntakeReason.SCHEME_NOT_ALLOWED, e.reason(), e.getMessage());
    }
  }

  @Test
  void redirectLoopsStopAtTheLimit() {
    String self = "http://127.0.0.1:" + canary.port() + "/redirect?to=";
    String url = self + enc(self + enc(self + enc(self + enc(self + enc("http://127.0.0.1:" + canary.port()
        + "/img.png")))));
    IntakePolicy policy = IntakePolicy.builder().allow(List.of("127.0.0.0/8")).maxRedirects(3).build();
    try (ImageIntake intake = ImageIntake.builder(policy).resolver(resolver).connector(connector).build()) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(url)));
      assertEquals(IntakeReason.REDIRECT_LIMIT, e.reason());
      assertTrue(e.getMessage().contains("more than 3 redirects"), e.getMessage());
    }
    assertEquals(4, canary.requests.get());
  }

  @Test
  void hostHeaderKeepsTheNameWhileTheSocketUsesTheAddress() throws Exception {
    try (TestNet.RawServer raw = new TestNet.RawServer((n, head, out) -> {
      out.write(TestNet.ascii("HTTP/1.1 200 OK\r\nContent-Length: " + png.length + "\r\n\r\n"));
      out.write(png);
    })) {
      try (ImageIntake intake = intake("canary.test")) {
        intake.fetch(ImageSource.parse("http://canary.test:" + raw.port() + "/a/b.png?sig=secret"));
      }
      String head = raw.heads.get(0);
      assertTrue(head.startsWith("GET /a/b.png?sig=secret HTTP/1.1\r\n"), head);
      assertTrue(head.contains("\r\nHost: canary.test:" + raw.port() + "\r\n"), head);
      assertEquals("127.0.0.1", connector.attempts.get(0).getAddress().getHostAddress());
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
