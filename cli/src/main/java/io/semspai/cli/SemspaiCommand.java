package io.semspai.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The root of {@code ./semspai}: every capability of the project is one subcommand here. */
@Command(
    name = "semspai",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Sem-SPAI Stream: detect AI-generated images with SPAI and a ConvNeXt-XXL semantic branch.",
    subcommands = {
      DemoCommand.class,
      StackCommand.class,
      DetectCommand.class,
      TrainerCommand.class,
      InferCommand.class,
      EvalCommand.class,
      ModelCommand.class,
      TrainHeadCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class,
    })
public final class SemspaiCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: choose one of the commands below.");
  }
}
