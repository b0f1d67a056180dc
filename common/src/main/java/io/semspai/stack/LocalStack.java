package io.semspai.stack;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * The local development stack without Docker: a single-node KRaft broker from the {@code kafka_2.13} jars and the
 * Apicurio schema registry, each its own process on 127.0.0.1, with PID files and logs under the data folder.
 *
 * <p>{@code up} is idempotent; {@code down} stops only processes whose command line carries this stack's marker, so
 * a PID file left behind after a reboot can never make it kill an unrelated process.
 */
public final class LocalStack {
  /**
   * @param dataDir PID files, logs, the broker's log dirs and the registry's database
   * @param kafkaPort broker listener on 127.0.0.1
   * @param controllerPort KRaft controller listener on 127.0.0.1
   * @param registryPort registry HTTP port on 127.0.0.1
   * @param registryAppDir unpacked Apicurio {@code all} archive
   * @param classpath classpath that holds the {@code kafka_2.13} jars
   */
  public record Settings(Path dataDir, int kafkaPort, int controllerPort, int registryPort, Path registryAppDir,
      String classpath) {
    public String bootstrapServers() {
      return "127.0.0.1:" + kafkaPort;
    }

    public String registryUrl() {
      return RegistryServer.url(registryPort);
    }
  }

  /** What {@code status} found for one service. */
  public enum State { RUNNING, STOPPED, STALE_PID_FILE, PORT_TAKEN_BY_OTHER }

  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Settings settings;
  private final Service broker;
  private final Service registry;

  public LocalStack(Settings settings) {
    this.settings = settings;
    this.broker = new Service("kafka", settings.kafkaPort(), () -> Ports.listening(settings.kafkaPort()));
    this.registry = new Service("registry", settings.registryPort(),
        () -> Processes.httpOk(settings.registryUrl() + "/subjects"));
  }

  public Settings settings() {
    return settings;
  }

  /** Starts what is not running. Fails, changing nothing, if a port is held by a process the stack did not start. */
  public void up(PrintStream out) {
    try {
      Files.createDirectories(settings.dataDir().resolve("logs"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + settings.dataDir(), e);
    }
    List<String> conflicts = new ArrayList<>();
    for (Service s : List.of(broker, registry)) {
      if (s.state() == State.PORT_TAKEN_BY_OTHER) {
        conflicts.add(s.name + ": port " + s.port + " on 127.0.0.1 is taken by a process this stack did not start");
      }
    }
    if (!broker.running() && !Ports.free(settings.controllerPort())) {
      conflicts.add("kafka controller: port " + settings.controllerPort() + " on 127.0.0.1 is taken");
    }
    if (!conflicts.isEmpty()) {
      throw new IllegalStateException(String.join("; ", conflicts)
          + " (stop that process or choose other ports with --kafka-port/--controller-port/--registry-port)");
    }
    if (broker.running()) {
      out.println("kafka     already running (pid " + broker.pid().orElseThrow() + ") on " + settings.bootstrapServers());
    } else {
      startBroker();
      out.println("kafka     started (pid " + broker.pid().orElseThrow() + ") on " + settings.bootstrapServers());
    }
    if (registry.running()) {
      out.println("registry  already running (pid " + registry.pid().orElseThrow() + ") on " + settings.registryUrl());
    } else {
      startRegistry();
      out.println("registry  started (pid " + registry.pid().orElseThrow() + ") on " + settings.registryUrl());
    }
  }

  /** Stops what this stack started; says so when nothing was running. */
  public void down(PrintStream out) {
    for (Service s : List.of(registry, broker)) {
      Optional<ProcessHandle> h = s.ownProcess();
      if (h.isEmpty()) {
        s.deletePidFile();
        out.println(String.format("%-9s not running", s.name));
        continue;
      }
      ProcessHandle p = h.get();
      p.destroy();
      boolean exited = p.onExit().completeOnTimeout(null, 30, java.util.concurrent.TimeUnit.SECONDS).join() != null
          || !p.isAlive();
      if (!exited) {
        p.destroyForcibly();
        p.onExit().join();
      }
      s.deletePidFile();
      out.println(String.format("%-9s stopped (pid %d)", s.name, p.pid()));
    }
  }

  /** Prints one line per service; true when both run. */
  public boolean status(PrintStream out) {
    boolean all = true;
    for (Service s : List.of(broker, registry)) {
      State st = s.state();
      String where = s == broker ? settings.bootstrapServers() : settings.registryUrl();
      String pid = s.pid().map(p -> " (pid " + p + ")").orElse("");
      out.println(String.format("%-9s %s%s %s", s.name, st.name().toLowerCase().replace('_', ' '), pid,
          st == State.RUNNING ? where : ""));
      all &= st == State.RUNNING;
    }
    out.println("data      " + settings.dataDir().toAbsolutePath());
    return all;
  }

  private void startBroker() {
    Path kafkaDir = settings.dataDir().resolve("kafka");
    Path props = settings.dataDir().resolve("server.properties");
    try {
      Files.createDirectories(kafkaDir);
      Properties p = KraftProperties.singleNode(settings.kafkaPort(), settings.controllerPort(), kafkaDir);
      try (OutputStream o = Files.newOutputStream(props)) {
        p.store(o, "written by ./semspai stack up");
      }
      if (!Files.exists(kafkaDir.resolve("meta.properties"))) {
        Process format = new ProcessBuilder(Processes.javaExecutable(), "-cp", settings.classpath(),
            "kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", props.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(broker.log().toFile()))
            .start();
        if (format.waitFor() != 0) {
          throw new IllegalStateException("formatting the broker's storage failed; see " + broker.log() + ":\n"
              + Processes.tail(broker.log(), 15));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the broker in " + kafkaDir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while formatting the broker storage", e);
    }
    broker.start(new ProcessBuilder(Processes.javaExecutable(), "-Xmx1g", "-D" + broker.marker(),
        "-cp", settings.classpath(), "kafka.Kafka", props.toString()));
  }

  private String clusterId() throws IOException {
    Path f = settings.dataDir().resolve("cluster.id");
    if (Files.exists(f)) {
      return Files.readString(f).trim();
    }
    // Kafka's cluster ids are base64url UUIDs (22 characters).
    UUID u = UUID.randomUUID();
    byte[] b = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
        .putLong(u.getLeastSignificantBits()).array();
    String id = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    Files.writeString(f, id);
    return id;
  }

  private void startRegistry() {
    registry.start(RegistryServer.command(settings.registryAppDir(), settings.registryPort(), settings.dataDir(),
        registry.marker()));
  }

  /** One process of the stack: its PID file, log, marker and readiness probe. */
  private final class Service {
    final String name;
    final int port;
    final BooleanSupplier ready;

    Service(String name, int port, BooleanSupplier ready) {
      this.name = name;
      this.port = port;
      this.ready = ready;
    }

    Path pidFile() {
      return settings.dataDir().resolve(name + ".pid");
    }

    Path log() {
      return settings.dataDir().resolve("logs").resolve(name + ".log");
    }

    /** A system property naming the service and this stack's data folder: how {@code down} knows its own. */
    String marker() {
      return "semspai.stack=" + name + "@" + settings.dataDir().toAbsolutePath().normalize();
    }

    Optional<Long> pid() {
      try {
        return Files.exists(pidFile()) ? Optional.of(Long.parseLong(Files.readString(pidFile()).trim()))
            : Optional.empty();
      } catch (IOException | NumberFormatException e) {
        return Optional.empty();
      }
    }

    Optional<ProcessHandle> ownProcess() {
      return pid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive)
          .filter(h -> h.info().commandLine().map(c -> c.contains(marker())).orElse(false));
    }

    boolean running() {
      return ownProcess().isPresent() && ready.getAsBoolean();
    }

    State state() {
      boolean own = ownProcess().isPresent();
      if (own && Ports.listening(port)) {
        return State.RUNNING;
      }
      if (!own && Ports.listening(port)) {
        return State.PORT_TAKEN_BY_OTHER;
      }
      return pid().isPresent() && !own ? State.STALE_PID_FILE : State.STOPPED;
    }

    void deletePidFile() {
      try {
        Files.deleteIfExists(pidFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void start(ProcessBuilder pb) {
      Process p;
      try {
        Files.writeString(log(), "---- starting " + name + " at " + java.time.Instant.now() + "\n",
            StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        p = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        Files.writeString(pidFile(), Long.toString(p.pid()));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + name, e);
      }
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (!ready.getAsBoolean()) {
        if (!p.isAlive()) {
          deletePidFile();
          throw new IllegalStateException(name + " exited with code " + p.exitValue() + " while starting; last "
              + "lines of " + log() + ":\n" + Processes.tail(log(), 20));
        }
        if (System.nanoTime() > deadline) {
          p.destroyForcibly();
          deletePidFile();
          throw new IllegalStateException(name + " did not become ready within " + START_TIMEOUT.toSeconds()
              + " s; last lines of " + log() + ":\n" + Processes.tail(log(), 20));
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for " + name, e);
        }
      }
    }
  }
}
