package io.github.pgdiscovery.core.protocol;

import java.util.Objects;

/**
 * Who a node is, as it tells its peers: the service it belongs to, the management endpoint that
 * Cluster Bootstrap probes, its remoting address ({@code akka://...} or {@code pekko://...}) with
 * the cluster's unique id of that actor system, and an incarnation id that is new for every actor
 * system started.
 *
 * <p>Two announcements with the same service, host and port describe the same contact point; the
 * incarnation tells a restarted actor system apart from its predecessor on that endpoint, and
 * {@code uid} lets a cluster's removal of one incarnation ({@code MemberRemoved} names address and
 * uid) leave its successor on the same address alone.
 *
 * @param uid the cluster's unique id of this actor system (Akka's and Pekko's {@code
 *     UniqueAddress.longUid}), 0 when the node is not a cluster member
 */
public record Announcement(
    String service, String host, int port, String address, long uid, String incarnation) {

  public Announcement {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(incarnation, "incarnation");
  }

  /** The contact point this announcement names, as {@code host:port}. */
  public String endpoint() {
    return host.indexOf(':') >= 0 && !host.startsWith("[")
        ? "[" + host + "]:" + port
        : host + ":" + port;
  }

  /** True if both name the same contact point of the same service, whatever the incarnation. */
  public boolean sameContactPoint(Announcement other) {
    return service.equals(other.service) && host.equals(other.host) && port == other.port;
  }
}
