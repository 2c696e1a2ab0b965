package io.github.pgdiscovery.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Free ports for nodes started in this JVM. */
public final class Ports {

  /**
   * Every port {@link #free()} has handed out in this JVM, so nodes started concurrently never
   * share one.
   */
  private static final Set<Integer> ISSUED = ConcurrentHashMap.newKeySet();

  private Ports() {}

  /**
   * A port that was free a moment ago and that this JVM has not handed out before: the operating
   * system may offer a port again as soon as it is released, before the node it was meant for has
   * bound it.
   */
  public static int free() {
    while (true) {
      int port;
      try (ServerSocket socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      } catch (IOException e) {
        throw new IllegalStateException("no free port", e);
      }
      if (ISSUED.add(port)) {
        return port;
      }
    }
  }
}
