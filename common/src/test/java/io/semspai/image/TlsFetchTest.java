package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * https goes to the checked literal address while TLS keeps the host name: SNI carries it and the certificate is
 * verified against it. The server is on loopback with a throwaway certificate made by the JDK's keytool.
 */
class TlsFetchTest {
  @TempDir
  static Path dir;

  private static HttpsServer server;
  private static SSLContext clientTls;
  private static final List<String> SNI = Collections.synchronizedList(new ArrayList<>());
  private static byte[] png;

  @BeforeAll
  static void start() throws Exception {
    png = CorpusTest.bytes("base.png");
    Path store = dir.resolve("images.p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "images", "-keyalg", "EC",
        "-groupname", "secp256r1", "-dname", "CN=images.test", "-ext", "SAN=dns:images.test,ip:127.0.0.1",
        "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit",
        "-keypass", "changeit").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool failed: " + out);

    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    clientTls = SSLContext.getInstance("TLS");
    clientTls.init(null, tmf.getTrustManagers(), null);

    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls) {
      @Override
      public void configure(HttpsParameters params) {
        SSLParameters sp = getSSLContext().getDefaultSSLParameters();
        sp.setSNIMatchers(List.of(new SNIMatcher(0) {
          @Override
          public boolean matches(SNIServerName name) {
            SNI.add(((SNIHostName) name).getAsciiName());
            return true;
          }
        }));
        params.setSSLParameters(sp);
      }
    });
    server.createContext("/", exchange -> {
      try (exchange) {
        exchange.sendResponseHeaders(200, png.length);
        exchange.getResponseBody().write(png);
      }
    });
    server.start();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private static ImageIntake intake() {
    IntakePolicy policy = IntakePolicy.builder().allow(List.of("127.0.0.0/8")).maxRetries(0).build();
    TestNet.MapResolver resolver = new TestNet.MapResolver().put("images.test", "127.0.0.1")
        .put("impostor.test", "127.0.0.1");
    return ImageIntake.builder(policy).resolver(resolver).connector(new TestNet.LoopbackOnly()).sslContext(clientTls)
        .build();
  }

  @Test
  void theHostNameTravelsInSniAndTheCertificateIsCheckedAgainstIt() throws Exception {
    SNI.clear();
    try (ImageIntake intake = intake()) {
      FetchedImage f = intake.fetch(ImageSource.parse("https://images.test:" + server.getAddress().getPort()
          + "/cat.png"));
      assertArrayEquals(png, f.bytes());
    }
    assertEquals(List.of("images.test"), SNI);
  }

  @Test
  void aCertificateForAnotherNameIsRefused() {
    try (ImageIntake intake = intake()) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(
          "https://impostor.test:" + server.getAddress().getPort() + "/cat.png")));
      assertEquals(IntakeReason.TLS_FAILED, e.reason(), e.getMessage());
    }
  }

  @Test
  void anIpLiteralIsCheckedAgainstTheCertificatesIpEntry() throws Exception {
    try (ImageIntake intake = intake()) {
      assertArrayEquals(png, intake.fetch(ImageSource.parse("https://127.0.0.1:" + server.getAddress().getPort()
          + "/cat.png")).bytes());
    }
  }

  @Test
  void anUntrustedCertificateIsRefused() {
    IntakePolicy policy = IntakePolicy.builder().allow(List.of("127.0.0.0/8")).maxRetries(0).build();
    try (ImageIntake intake = ImageIntake.builder(policy).connector(new TestNet.LoopbackOnly())
        .resolver(new TestNet.MapResolver().put("images.test", "127.0.0.1")).build()) {
      IntakeException e = assertThrows(IntakeException.class, () -> intake.fetch(ImageSource.parse(
          "https://images.test:" + server.getAddress().getPort() + "/cat.png")));
      assertEquals(IntakeReason.TLS_FAILED, e.reason(), e.getMessage());
    }
  }
}
