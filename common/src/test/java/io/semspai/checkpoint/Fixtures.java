package io.semspai.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/** The checkpoints tools/checkpoint-fixtures/make.py wrote with PyTorch 1.13, and what PyTorch saw in them. */
final class Fixtures {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static Path path(String name) {
    try {
      return Path.of(Fixtures.class.getResource("/checkpoint/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/checkpoint/" + name)) {
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Asserts that a tensor matches PyTorch's own description: dtype, shape, stride, offset and every value bit. */
  static void assertMatches(JsonNode expected, TorchTensor t) throws CheckpointException {
    String key = t.key();
    assertEquals(expected.get("dtype").asText(), t.dtype().name(), key + " dtype");
    assertArrayEquals(longs(expected.get("shape")), t.shape(), key + " shape");
    assertArrayEquals(longs(expected.get("stride")), t.stride(), key + " stride");
    assertEquals(expected.get("offset").asLong(), t.storageOffset(), key + " offset");
    if (expected.has("bits32")) {
      float[] values = t.toFloats();
      long[] bits = longs(expected.get("bits32"));
      assertEquals(bits.length, values.length, key + " count");
      for (int i = 0; i < bits.length; i++) {
        assertEquals(bits[i], Float.floatToRawIntBits(values[i]) & 0xffffffffL,
            key + "[" + i + "] = " + values[i] + " vs " + Float.intBitsToFloat((int) bits[i]));
      }
    } else if (expected.has("bits64")) {
      double[] values = t.toDoubles();
      JsonNode bits = expected.get("bits64");
      assertEquals(bits.size(), values.length, key + " count");
      for (int i = 0; i < values.length; i++) {
        assertEquals(Long.parseUnsignedLong(bits.get(i).asText(), 16), Double.doubleToRawLongBits(values[i]),
            key + "[" + i + "]");
      }
    } else {
      assertArrayEquals(longs(expected.get("values")), t.toLongs(), key + " values");
    }
  }

  /** Asserts a whole state dict against a JSON object of tensor descriptions, keys in the same order. */
  static void assertStateDict(JsonNode expected, StateDict sd) throws CheckpointException {
    assertEquals(iterable(expected.fieldNames()), String.join(",", sd.keys()), "keys in file order");
    for (Map.Entry<String, TorchTensor> e : sd.tensors().entrySet()) {
      assertMatches(expected.get(e.getKey()), e.getValue());
    }
  }

  private static String iterable(Iterator<String> names) {
    StringBuilder sb = new StringBuilder();
    names.forEachRemaining(n -> sb.append(sb.length() == 0 ? "" : ",").append(n));
    return sb.toString();
  }

  static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }
}
