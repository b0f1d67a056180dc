package io.semspai.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.registry.SchemaRegistryClient.Compatibility;
import io.semspai.testing.TestRegistry;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

/** Against the real Apicurio Registry process, through its Confluent-compatible API. */
class SchemaRegistryClientTest {
  private final SchemaRegistryClient client = TestRegistry.shared().client();

  private static Schema v1() {
    return SchemaBuilder.record("Thing").namespace("t").fields().requiredString("id").endRecord();
  }

  @Test
  void registersLooksUpAndFetchesById() {
    String subject = "reg-" + UUID.randomUUID() + "-value";
    int id = client.register(subject, v1());
    assertEquals(id, client.register(subject, v1()), "registering the same schema again is idempotent");
    // A fresh client has no cache: it must get the same answers from the registry itself.
    SchemaRegistryClient fresh = TestRegistry.shared().client();
    assertEquals(id, fresh.lookup(subject, v1()));
    assertEquals(v1(), fresh.schemaById(id));
  }

  @Test
  void unknownIdFailsClearly() {
    var e = assertThrows(RegistryException.UnknownSchemaId.class, () -> client.schemaById(987_654));
    assertTrue(e.getMessage().contains("schema id 987654 is unknown"), e.getMessage());
    assertEquals(404, e.httpStatus());
  }

  @Test
  void breakingChangeIsRejectedUnderTheSubjectRule() {
    String subject = "compat-" + UUID.randomUUID() + "-value";
    client.setCompatibility(subject, Compatibility.FULL);
    assertEquals(Compatibility.FULL, client.compatibility(subject));
    client.register(subject, v1());
    // A new required field without a default breaks backward (and so full) compatibility.
    Schema breaking = SchemaBuilder.record("Thing").namespace("t").fields().requiredString("id")
        .requiredInt("count").endRecord();
    var e = assertThrows(RegistryException.Incompatible.class, () -> client.register(subject, breaking));
    assertTrue(e.getMessage().contains(subject), e.getMessage());
    // A field with a default is a compatible change and goes through.
    Schema compatible = SchemaBuilder.record("Thing").namespace("t").fields().requiredString("id")
        .name("count").type().intType().intDefault(0).endRecord();
    client.register(subject, compatible);
  }

  @Test
  void subjectWithoutRuleReportsNone() {
    assertNull(client.compatibility("never-" + UUID.randomUUID() + "-value"));
  }
}
