package io.semspai.topics;

import io.semspai.registry.SchemaRegistryClient;
import io.semspai.registry.Subjects;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.specific.SpecificData;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a cluster and a registry to what {@link Topics} describes: creates missing topics, sets each value
 * subject's compatibility rule, and registers the current schemas. The registry's global setting is never
 * changed: the registry may be shared.
 */
public final class TopicSetup {
  private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);

  private TopicSetup() {}

  /** Creates the topics that do not exist yet; existing topics are left as they are. Returns the names created. */
  public static List<String> createMissing(Admin admin, List<Topic<String, ?>> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    List<NewTopic> missing = new ArrayList<>();
    for (Topic<String, ?> t : topics) {
      if (!existing.contains(t.name())) {
        missing.add(new NewTopic(t.name(), t.partitions(), (short) -1).configs(t.configs()));
      }
    }
    List<String> created = new ArrayList<>();
    for (var e : admin.createTopics(missing).values().entrySet()) {
      try {
        e.getValue().get(30, TimeUnit.SECONDS);
        created.add(e.getKey());
      } catch (ExecutionException ex) {
        if (!(ex.getCause() instanceof TopicExistsException)) {
          throw ex; // another instance creating it at the same moment is fine; anything else is not
        }
      }
    }
    if (!created.isEmpty()) {
      log.info("created topics {}", created);
    }
    return created;
  }

  /** Sets the compatibility rule of every value subject and registers the current schemas under it. */
  public static void registerSchemas(SchemaRegistryClient registry, List<Topic<String, ?>> topics) {
    for (Topic<String, ?> t : topics) {
      String subject = Subjects.forTopic(t.name(), false);
      registry.setCompatibility(subject, t.valueCompatibility());
      registry.register(subject, SpecificData.get().getSchema(t.valueType()));
    }
  }
}
