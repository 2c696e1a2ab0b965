package io.github.pgdiscovery.core;

import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.HostNames;
import java.util.UUID;

/** This node's announcement, checked before anything is announced; shared by both adapters. */
public final class SelfAnnouncement {

  private SelfAnnouncement() {}

  /**
   * The management hostname and port exactly as configured: Bootstrap compares the contact points
   * it discovers with exactly these to recognise itself, so announcing anything else (the bound
   * port, a resolved address) would keep the lowest-address node from forming the cluster. A new
   * incarnation id every call: one per actor system.
   *
   * @param managementPath where the management endpoint is configured, e.g. {@code
   *     akka.management.http}; errors name {@code hostname} and {@code port} under it
   * @param uid the cluster's unique id of this actor system, 0 outside a cluster
   * @throws ConfigException.BadValue naming the key, for a host other nodes could not reach or a
   *     port of 0
   */
  public static Announcement of(
      String service, String host, int port, String address, long uid, String managementPath) {
    if (!HostNames.isValid(host)) {
      throw new ConfigException.BadValue(
          managementPath + ".hostname",
          "\""
              + host
              + "\" is not an IP literal or DNS name, so other nodes could not reach this node's contact point");
    }
    if (port < 1 || port > 65535) {
      throw new ConfigException.BadValue(
          managementPath + ".port",
          port
              + " cannot be announced: other nodes need"
              + " the fixed port (1 to 65535) the management endpoint listens on");
    }
    return new Announcement(service, host, port, address, uid, UUID.randomUUID().toString());
  }
}
