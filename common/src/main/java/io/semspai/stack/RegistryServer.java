package io.semspai.stack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Starts the Apicurio Registry server (the {@code all} archive from Maven Central, unpacked) as a process on
 * 127.0.0.1, storing its data in an H2 file so that schema ids survive a restart of the stack.
 */
public final class RegistryServer {
  /** Where the Confluent-compatible API lives on Apicurio. */
  public static final String CCOMPAT_PATH = "/apis/ccompat/v7";

  private RegistryServer() {}

  /** The runner jar inside an unpacked Apicurio {@code all} archive. */
  public static Path runnerJar(Path appDir) {
    if (!Files.isDirectory(appDir)) {
      throw new IllegalStateException("schema registry not found: " + appDir + " does not exist "
          + "(it is unpacked from Maven Central by the build: run 'mvn -B -DskipTests package')");
    }
    try (Stream<Path> s = Files.list(appDir)) {
      return s.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst()
          .orElseThrow(() -> new IllegalStateException("no *-runner.jar in " + appDir));
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + appDir + ": " + e, e);
    }
  }

  /** The command line, with {@code marker} as a system property so the stack can recognise its own process. */
  public static ProcessBuilder command(Path appDir, int port, Path dataDir, String marker) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Processes.javaExecutable());
    cmd.add("-Xmx512m");
    cmd.add("-D" + marker);
    cmd.add("-Dquarkus.http.host=127.0.0.1");
    cmd.add("-Dquarkus.http.port=" + port);
    cmd.add("-Dquarkus.log.level=WARN");
    cmd.add("-jar");
    cmd.add(runnerJar(appDir).toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(appDir.toFile());
    pb.environment().put("REGISTRY_DATASOURCE_URL",
        "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("registry") + ";DB_CLOSE_ON_EXIT=FALSE");
    return pb;
  }

  public static String url(int port) {
    return "http://127.0.0.1:" + port + CCOMPAT_PATH;
  }
}
