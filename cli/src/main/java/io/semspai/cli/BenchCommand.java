package io.semspai.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./semspai bench ...}: benchmarks that print their numbers (docs/benchmarks.md records them). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks: the inference engine, the streaming service.",
    subcommands = {BenchEngineCommand.class, BenchStreamCommand.class})
public final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing benchmark: choose one below.");
  }
}
