package io.semspai.image;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Opens the TCP connection to an address the intake has already checked. It receives a literal address, never a host
 * name, so nothing between the check and the connect can resolve again. Tests inject one that refuses anything but
 * loopback, so a bug cannot turn a test into traffic elsewhere.
 */
@FunctionalInterface
public interface SocketConnector {
  Socket connect(InetSocketAddress checkedAddress, int timeoutMillis) throws IOException;

  static SocketConnector plain() {
    return (address, timeoutMillis) -> {
      if (address.isUnresolved()) {
        throw new IllegalArgumentException("refusing to connect to an unresolved address: " + address);
      }
      Socket socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        socket.connect(address, timeoutMillis);
        return socket;
      } catch (IOException | RuntimeException e) {
        socket.close();
        throw e;
      }
    };
  }
}
