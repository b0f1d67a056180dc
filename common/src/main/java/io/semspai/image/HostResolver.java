package io.semspai.image;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Turns a host name into addresses. The intake calls it once per hop and then only ever connects to the addresses it
 * returned, after checking every one of them. Tests inject one that answers without DNS.
 */
@FunctionalInterface
public interface HostResolver {
  List<InetAddress> resolve(String host) throws UnknownHostException;

  /** The JVM's resolver (system DNS, /etc/hosts, the JVM's address cache). */
  static HostResolver system() {
    return host -> List.of(InetAddress.getAllByName(host));
  }
}
