package io.semspai.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** JSON helpers: a metric is a number, or null with a sibling {@code <name>_undefined} that says why. */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Json() {}

  public static void put(ObjectNode node, String field, MetricValue value) {
    if (value.isDefined()) {
      node.put(field, value.value());
    } else {
      node.putNull(field);
      node.put(field + "_undefined", value.undefinedReason());
    }
  }
}
