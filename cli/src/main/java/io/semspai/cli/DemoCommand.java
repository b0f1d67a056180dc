package io.semspai.cli;

import io.semspai.avro.ImageEvent;
import io.semspai.avro.ImageReference;
import io.semspai.registry.RegistryConfig;
import io.semspai.registry.SchemaRegistryClient;
import io.semspai.stack.LocalStack;
import io.semspai.topics.TopicSetup;
import io.semspai.topics.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./semspai demo}: runs the loop locally. Until the detector lands it brings the stack up, creates the topics,
 * registers the schemas, round-trips one ImageEvent through broker and registry, and brings the stack down again.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole loop locally on the local stack (brings it up and down).")
public final class DemoCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(names = "--keep-stack", description = "Leave the stack running afterwards.")
  boolean keepStack;

  @Override
  public Integer call() throws Exception {
    LocalStack stack = stackOptions.stack();
    boolean wasRunning = stack.status(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    AtomicBoolean stopped = new AtomicBoolean();
    Runnable stop = () -> {
      if (!keepStack && !wasRunning && stopped.compareAndSet(false, true)) {
        System.out.println("== stopping the local stack");
        stack.down(System.out);
      }
    };
    Thread hook = new Thread(stop, "demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C still brings the stack down
    try {
      System.out.println("== starting the local stack (Kafka broker + schema registry, no Docker)");
      try {
        stack.up(System.out);
      } catch (IllegalStateException e) {
        throw new UserError(e.getMessage(), 1, e);
      }
      roundTrip(stack.settings());
      return 0;
    } finally {
      stop.run();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException ignored) {
        // already shutting down
      }
    }
  }

  private static void roundTrip(LocalStack.Settings s) throws Exception {
    SchemaRegistryClient registry = new SchemaRegistryClient(RegistryConfig.of(s.registryUrl()));
    Topics topics = new Topics("demo.", registry);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", s.bootstrapServers()))) {
      List<String> created = TopicSetup.createMissing(admin, topics.all());
      System.out.println("== topics: " + (created.isEmpty() ? "all present" : "created " + created));
    }
    TopicSetup.registerSchemas(registry, topics.all());
    System.out.println("== schemas registered under " + s.registryUrl());

    String id = "demo-" + UUID.randomUUID();
    ImageEvent event = ImageEvent.newBuilder().setEventId(id)
        .setImage(new ImageReference("file:///samples/demo.png")).setSourcePlatform("demo")
        .setIngestedAt(Instant.now()).build();
    try (var p = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        s.bootstrapServers()), topics.imageEvents().keySerde().serializer(),
        topics.imageEvents().valueSerde().serializer())) {
      var md = p.send(new ProducerRecord<>(topics.imageEvents().name(), id, event)).get();
      System.out.println("== published ImageEvent " + id + " to " + md.topic() + "-" + md.partition() + "@"
          + md.offset());
    }
    try (var c = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        s.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "demo-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(),
        new ByteArrayDeserializer())) {
      c.subscribe(List.of(topics.imageEvents().name()));
      long deadline = System.currentTimeMillis() + 30_000;
      while (System.currentTimeMillis() < deadline) {
        for (var r : c.poll(Duration.ofMillis(500))) {
          if (id.equals(r.key())) {
            byte[] b = r.value();
            ImageEvent back = topics.imageEvents().valueSerde().deserializer().deserialize(r.topic(), b);
            System.out.printf("== read it back: %d bytes, magic byte %d, schema id %d, event %s, image %s%n",
                b.length, b[0], ByteBuffer.wrap(b, 1, 4).getInt(), back.getEventId(), back.getImage());
            if (!back.equals(event)) {
              throw new IllegalStateException("round trip changed the event: " + back);
            }
            return;
          }
        }
      }
      throw new IllegalStateException("the event did not come back within 30 s");
    }
  }
}
