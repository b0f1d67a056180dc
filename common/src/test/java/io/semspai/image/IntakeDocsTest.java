package io.semspai.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/intake.md is what operators read: its tables must list exactly the enum's codes and the policy's keys. */
class IntakeDocsTest {
  private static String doc() throws IOException {
    Path p = Path.of("..", "docs", "intake.md");
    if (!Files.exists(p)) {
      p = Path.of("docs", "intake.md");
    }
    return Files.readString(p);
  }

  @Test
  void everyReasonIsDocumentedWithItsMeaningSettingsAndTransience() throws IOException {
    List<String> documented = new ArrayList<>();
    String doc = doc();
    String section = doc.substring(doc.indexOf("## Reason codes"));
    section = section.substring(0, section.indexOf("\n## ", 5) < 0 ? section.length() : section.indexOf("\n## ", 5));
    for (String line : section.split("\n")) {
      if (!line.startsWith("| `")) {
        continue;
      }
      String[] cells = line.split("\\|");
      String code = cells[1].trim().replace("`", "");
      documented.add(code);
      IntakeReason r = IntakeReason.valueOf(code);
      assertEquals(r.meaning(), cells[2].trim(), code);
      String settings = r.settings().equals("-") ? "—" : "`" + r.settings().replace(", ", "`, `") + "`";
      assertEquals(settings, cells[3].trim(), code);
      assertEquals(r.transientFailure() ? "yes" : "no", cells[4].trim(), code);
    }
    assertEquals(List.of(IntakeReason.values()).stream().map(Enum::name).toList(), documented);
  }

  @Test
  void everyConfigurationKeyIsDocumented() throws IOException {
    String doc = doc();
    for (String key : IntakePolicy.KEYS) {
      assertTrue(doc.contains("| `" + key + "` |"), key);
    }
  }

  @Test
  void theReadmeListsEveryReasonCode() throws IOException {
    Path p = Path.of("..", "README.md");
    if (!Files.exists(p)) {
      p = Path.of("README.md");
    }
    String readme = Files.readString(p);
    for (IntakeReason r : IntakeReason.values()) {
      org.junit.jupiter.api.Assertions.assertTrue(readme.contains("| `" + r.name() + "` |"),
          "README.md's reason-code table lacks " + r.name());
    }
  }
}
