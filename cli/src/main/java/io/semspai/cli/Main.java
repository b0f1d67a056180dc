package io.semspai.cli;

import picocli.CommandLine;

/** Entry point of the {@code ./semspai} launcher. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** The configured command line, shared by {@link #main} and the tests. */
  public static CommandLine newCommandLine() {
    CommandLine cl = new CommandLine(new SemspaiCommand());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    // Errors inside a command print one line with its cause, not a stack trace; --debug-like detail goes to the log.
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      cmd.getErr().println(cmd.getColorScheme().errorText("error: " + describe(ex)));
      return ex instanceof UserError ue ? ue.exitCode() : 1;
    });
    return cl;
  }

  private static String describe(Throwable ex) {
    String msg = ex.getMessage();
    if (msg == null || msg.isBlank()) {
      msg = ex.getClass().getSimpleName();
    }
    return msg;
  }
}
