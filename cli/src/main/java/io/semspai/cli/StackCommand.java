package io.semspai.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code ./semspai stack up|down|status}: the local Kafka broker and schema registry, without Docker. */
@Command(name = "stack", mixinStandardHelpOptions = true,
    description = "Start, stop or inspect the local Kafka broker and schema registry (no Docker needed).",
    subcommands = {StackCommand.Up.class, StackCommand.Down.class, StackCommand.Status.class})
public final class StackCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: up, down or status.");
  }

  @Command(name = "up", mixinStandardHelpOptions = true,
      description = "Start the broker and the registry on 127.0.0.1 (does nothing for what already runs).")
  static final class Up implements Callable<Integer> {
    @Mixin StackOptions options;

    @Override
    public Integer call() {
      try {
        options.stack().up(System.out);
      } catch (IllegalStateException e) {
        throw new UserError(e.getMessage(), 1, e);
      }
      return 0;
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true,
      description = "Stop the broker and the registry that 'stack up' started.")
  static final class Down implements Callable<Integer> {
    @Mixin StackOptions options;

    @Override
    public Integer call() {
      options.stack().down(System.out);
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show whether the broker and the registry run; exit code 3 when not both do.")
  static final class Status implements Callable<Integer> {
    @Mixin StackOptions options;

    @Override
    public Integer call() {
      return options.stack().status(System.out) ? 0 : 3;
    }
  }
}
