package io.github.pgdiscovery.core.protocol;

import java.util.Objects;

/**
 * Who a node is, as it tells its peers: the service it belongs to, the Akka Management endpoint that Cluster
 * Bootstrap probes, its Akka remoting address, and an incarnation id that is new on every process start.
 *
 * <p>Two announcements with the same service, host and port describe the same contact point; the incarnation tells a
 * restarted process apart from its predecessor on that endpoint.
 */
public record Announcement(String service, String host, int port, String akkaAddress, String incarnation) {

  public Announcement {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(akkaAddress, "akkaAddress");
    Objects.requireNonNull(incarnation, "incarnation");
  }

  /** The contact point this announcement names, as {@code host:port}. */
  public String endpoint() {
    return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]:" + port : host + ":" + port;
  }
}
