package io.semspai.stack;

import java.nio.file.Path;
import java.util.Properties;

/** Server properties of a single-node KRaft cluster (broker and controller in one) listening on 127.0.0.1 only. */
public final class KraftProperties {
  private KraftProperties() {}

  public static Properties singleNode(int brokerPort, int controllerPort, Path logDir) {
    Properties p = new Properties();
    p.setProperty("process.roles", "broker,controller");
    p.setProperty("node.id", "1");
    p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.setProperty("log.dirs", logDir.toAbsolutePath().toString());
    // One node: every internal topic has one replica, or exactly-once and consumer groups never become ready.
    p.setProperty("offsets.topic.replication.factor", "1");
    p.setProperty("offsets.topic.num.partitions", "3");
    p.setProperty("transaction.state.log.replication.factor", "1");
    p.setProperty("transaction.state.log.min.isr", "1");
    p.setProperty("transaction.state.log.num.partitions", "3");
    p.setProperty("share.coordinator.state.topic.replication.factor", "1");
    p.setProperty("share.coordinator.state.topic.min.isr", "1");
    p.setProperty("group.initial.rebalance.delay.ms", "0");
    p.setProperty("auto.create.topics.enable", "false");
    p.setProperty("num.partitions", "1");
    // Topics set their own max.message.bytes; the broker default must not be the tighter limit.
    p.setProperty("message.max.bytes", Integer.toString(8 << 20));
    p.setProperty("replica.fetch.max.bytes", Integer.toString(8 << 20));
    return p;
  }
}
