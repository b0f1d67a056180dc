package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandLineTest {
  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    CommandLine cl = Main.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void helpListsEveryCommandWithADescription() {
    Run r = run("--help");
    assertEquals(0, r.code());
    for (String c : List.of("stack", "demo")) {
      assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith(c + " ") && l.trim().length() > c.length() + 5),
          "--help lists '" + c + "' with one line:\n" + r.out());
    }
  }

  @Test
  void unknownFlagIsAClearErrorWithNonZeroExit() {
    Run r = run("--no-such-flag");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("Unknown option: '--no-such-flag'"), r.err());
  }

  @Test
  void badValueIsAClearErrorWithNonZeroExit() {
    Run r = run("stack", "status", "--kafka-port", "nine");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("Invalid value for option '--kafka-port'"), r.err());
  }

  @Test
  void missingCommandSaysSo() {
    Run r = run();
    assertEquals(2, r.code());
    assertTrue(r.err().contains("Missing command"), r.err());
  }

  @Test
  void outOfRangePortIsRefused() {
    Run r = run("stack", "status", "--kafka-port", "70000");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("port 70000 is out of range"), r.err());
  }
}
