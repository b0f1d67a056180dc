package io.semspai.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.registry.SchemaRegistryClient.Compatibility;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/** Each current schema stays compatible with every committed previous version, under its topic's rule. */
class SchemaEvolutionTest {
  private final Topics topics = new Topics("t.", null);

  @Test
  void everyTopicSchemaIsCompatibleWithItsHistory() throws Exception {
    // The history travels in the schemas jar: open it as a file system when it is packaged.
    java.net.URI uri = getClass().getResource("/avro-history").toURI();
    if ("jar".equals(uri.getScheme())) {
      try {
        java.nio.file.FileSystems.newFileSystem(uri, java.util.Map.of());
      } catch (java.nio.file.FileSystemAlreadyExistsException ignored) {
        // opened by an earlier test in this JVM
      }
    }
    Path history = Path.of(uri);
    List<Path> versions;
    try (Stream<Path> s = Files.list(history)) {
      versions = s.filter(Files::isDirectory).sorted().toList();
    }
    assertFalse(versions.isEmpty(), "no schema history found");
    int checked = 0;
    for (Topic<String, ?> t : topics.all()) {
      Schema current = SpecificData.get().getSchema(t.valueType());
      for (Path v : versions) {
        Path old = v.resolve(t.valueType().getSimpleName() + ".avsc");
        if (!Files.exists(old)) {
          continue;
        }
        List<String> problems = problems(t.valueCompatibility(), current, parseWithImports(v, old));
        assertTrue(problems.isEmpty(), t.valueType().getSimpleName() + " vs " + v.getFileName() + ": " + problems);
        checked++;
      }
    }
    assertEquals(topics.all().size(), checked, "every topic's schema has at least one committed version");
  }

  @Test
  void theCheckCatchesABreakingChange() {
    Schema old = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
    Schema addedRequired = SchemaBuilder.record("R").fields().requiredString("a").requiredInt("b").endRecord();
    Schema removedField = SchemaBuilder.record("R").fields().endRecord();
    assertFalse(problems(Compatibility.BACKWARD, addedRequired, old).isEmpty());
    assertTrue(problems(Compatibility.BACKWARD, removedField, old).isEmpty(), "new readers ignore removed fields");
    assertFalse(problems(Compatibility.FULL, removedField, old).isEmpty(), "old readers need the removed field");
  }

  static List<String> problems(Compatibility rule, Schema current, Schema previous) {
    List<String> out = new ArrayList<>();
    if (rule == Compatibility.BACKWARD || rule == Compatibility.FULL) {
      var r = SchemaCompatibility.checkReaderWriterCompatibility(current, previous);
      if (r.getType() != SchemaCompatibilityType.COMPATIBLE) {
        out.add("new readers cannot read old data: " + r.getResult().getIncompatibilities());
      }
    }
    if (rule == Compatibility.FORWARD || rule == Compatibility.FULL) {
      var r = SchemaCompatibility.checkReaderWriterCompatibility(previous, current);
      if (r.getType() != SchemaCompatibilityType.COMPATIBLE) {
        out.add("old readers cannot read new data: " + r.getResult().getIncompatibilities());
      }
    }
    return out;
  }

  /** DeadLetter refers to ImageEvent by name, so the version's ImageEvent is parsed first. */
  private static Schema parseWithImports(Path versionDir, Path file) throws IOException, URISyntaxException {
    Schema.Parser parser = new Schema.Parser();
    Path imageEvent = versionDir.resolve("ImageEvent.avsc");
    if (!file.equals(imageEvent) && Files.exists(imageEvent)) {
      try (InputStream in = Files.newInputStream(imageEvent)) {
        parser.parse(in);
      }
    }
    try (InputStream in = Files.newInputStream(file)) {
      return parser.parse(in);
    }
  }
}
