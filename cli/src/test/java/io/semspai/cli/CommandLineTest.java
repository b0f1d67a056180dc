package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CommandLineTest {
  @Test
  void helpListsEveryCommandWithADescription() {
    CliRun r = CliRun.of("--help");
    assertEquals(0, r.exit());
    for (String c : List.of("stack", "demo")) {
      assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith(c + " ") && l.trim().length() > c.length() + 5),
          "--help lists '" + c + "' with one line:\n" + r.out());
    }
  }

  @Test
  void unknownFlagIsAClearErrorWithNonZeroExit() {
    CliRun r = CliRun.of("--no-such-flag");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("Unknown option: '--no-such-flag'"), r.err());
  }

  @Test
  void badValueIsAClearErrorWithNonZeroExit() {
    CliRun r = CliRun.of("stack", "status", "--kafka-port", "nine");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("Invalid value for option '--kafka-port'"), r.err());
  }

  @Test
  void missingCommandSaysSo() {
    CliRun r = CliRun.of();
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("Missing command"), r.err());
  }

  @Test
  void outOfRangePortIsRefused() {
    CliRun r = CliRun.of("stack", "status", "--kafka-port", "70000");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("port 70000 is out of range"), r.err());
  }
}
