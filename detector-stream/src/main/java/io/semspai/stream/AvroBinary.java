package io.semspai.stream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Plain Avro binary for internal state stores: no registry, because a changelog must stay readable by this service
 * even when the registry is unreachable. Only for schemas the service owns (io.semspai.avro.internal).
 */
final class AvroBinary {
  private AvroBinary() {}

  static <T extends SpecificRecord> Serde<T> serde(Class<T> type) {
    SpecificData model = SpecificData.getForClass(type);
    var schema = model.getSchema(type);
    SpecificDatumWriter<T> writer = new SpecificDatumWriter<>(schema, model);
    SpecificDatumReader<T> reader = new SpecificDatumReader<>(schema, schema, model);
    return Serdes.serdeFrom((topic, v) -> {
      if (v == null) {
        return null;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
      try {
        writer.write(v, enc);
        enc.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return out.toByteArray();
    }, (topic, b) -> {
      if (b == null) {
        return null;
      }
      try {
        return reader.read(null, DecoderFactory.get().binaryDecoder(b, null));
      } catch (IOException e) {
        throw new UncheckedIOException("corrupt " + type.getSimpleName() + " in state store", e);
      }
    });
  }
}
