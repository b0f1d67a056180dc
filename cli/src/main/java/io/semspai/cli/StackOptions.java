package io.semspai.cli;

import io.semspai.stack.LocalStack;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the local stack lives and listens; shared by {@code stack} and {@code demo}. */
public final class StackOptions {
  @Option(names = "--data-dir", description = "Stack data: PID files, logs, broker and registry storage "
      + "(default: ${DEFAULT-VALUE}).", defaultValue = "${env:SEMSPAI_STACK_DIR:-${sys:semspai.home:-.}/.semspai/stack}")
  Path dataDir;

  @Option(names = "--kafka-port", description = "Broker port on 127.0.0.1 (default: ${DEFAULT-VALUE}).",
      defaultValue = "${env:SEMSPAI_KAFKA_PORT:-9092}")
  int kafkaPort;

  @Option(names = "--controller-port", description = "KRaft controller port on 127.0.0.1 (default: ${DEFAULT-VALUE}).",
      defaultValue = "${env:SEMSPAI_CONTROLLER_PORT:-9093}")
  int controllerPort;

  @Option(names = "--registry-port", description = "Schema registry port on 127.0.0.1 (default: ${DEFAULT-VALUE}).",
      defaultValue = "${env:SEMSPAI_REGISTRY_PORT:-8081}")
  int registryPort;

  public LocalStack stack() {
    for (int p : new int[] {kafkaPort, controllerPort, registryPort}) {
      if (p < 1 || p > 65535) {
        throw new UserError("port " + p + " is out of range 1-65535");
      }
    }
    if (kafkaPort == controllerPort || kafkaPort == registryPort || controllerPort == registryPort) {
      throw new UserError("the kafka, controller and registry ports must differ");
    }
    Path home = Path.of(System.getProperty("semspai.home", "."));
    return new LocalStack(new LocalStack.Settings(dataDir.toAbsolutePath().normalize(), kafkaPort, controllerPort,
        registryPort, home.resolve("deploy/target/stack/apicurio"), System.getProperty("java.class.path")));
  }
}
