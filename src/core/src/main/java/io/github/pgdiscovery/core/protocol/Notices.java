package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.settings.DiscoverySettings;

/**
 * What the protocol tells an operator when something is wrong around it, in one place: what
 * happened, what it means, and what to do. The parts decide when (once per event, rate-limited);
 * these say what.
 */
final class Notices {

  private Notices() {}

  /** Two live nodes announce one contact point. */
  static Effect.Notice clash(Announcement a, Announcement b, String consequence) {
    return new Effect.Notice(
        Level.ERROR,
        "Two live nodes announce the same contact point "
            + a.endpoint()
            + " for service "
            + a.service()
            + ": "
            + a.address()
            + " (incarnation "
            + a.incarnation()
            + ") and "
            + b.address()
            + " (incarnation "
            + b.incarnation()
            + "). Cluster Bootstrap can reach only one of them there. Give every node its own"
            + " management hostname and port; a common cause is a hostname that resolves to"
            + " 127.0.1.1 through /etc/hosts on every machine."
            + consequence);
  }

  /** A node of this service but of another toolkit announces on the channel. */
  static Effect.Notice otherToolkit(
      Announcement node, Announcement self, DiscoverySettings settings) {
    return new Effect.Notice(
        Level.ERROR,
        "A node with address "
            + node.address()
            + " at "
            + node.endpoint()
            + " announces service "
            + self.service()
            + " on channel "
            + settings.channel()
            + ", but this node's address is "
            + self.address()
            + ": nodes of different toolkits ("
            + scheme(node.address())
            + " and "
            + scheme(self.address())
            + ") cannot form one cluster, so this node ignores it. Give them different channels ("
            + settings.naming().key("channel")
            + ") or service names. Logged at most once a minute.");
  }

  /** The node did not hear its own probe or announcement back within the connect timeout. */
  static Effect.Notice notDelivered(DiscoverySettings settings, String what) {
    return new Effect.Notice(
        Level.ERROR,
        "Connected to channel "
            + settings.channel()
            + " but did not hear this node's own "
            + what
            + " within "
            + DiscoverySettings.readable(settings.database().connectTimeout())
            + ": notifications are not delivered on this connection. Likely causes: a pooler in"
            + " transaction mode (PgBouncer, Supavisor), a read replica or hot standby, or a proxy"
            + " that drops asynchronous messages. Point "
            + settings.naming().key("url")
            + " at the primary directly. Lookups keep failing until this is fixed.");
  }

  /**
   * The scheme of a remoting address, such as the part before "://"; the whole address if it has
   * none.
   */
  static String scheme(String address) {
    int end = address.indexOf("://");
    return end < 0 ? address : address.substring(0, end);
  }
}
