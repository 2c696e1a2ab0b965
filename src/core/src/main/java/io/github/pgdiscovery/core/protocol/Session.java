package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;

/**
 * This node's current session on the channel: whether it is connected, and since when. What a node
 * may have missed follows from how long it has listened.
 */
final class Session {

  private final Timing timing;
  private final boolean signed;
  private boolean connected;
  private long connectedAt;
  private long connectedWallMillis;

  /**
   * @param signed whether messages carry a signed timestamp
   */
  Session(Timing timing, boolean signed) {
    this.timing = timing;
    this.signed = signed;
  }

  void connected(long now, long wallMillis) {
    connected = true;
    connectedAt = now;
    connectedWallMillis = wallMillis;
  }

  void disconnected() {
    connected = false;
  }

  boolean connected() {
    return connected;
  }

  /** When the session began, on the monotonic clock. */
  long since() {
    return connectedAt;
  }

  /**
   * Whether this node may have missed an announcement made just now: it is not connected, or its
   * session is younger than the longest a node takes to announce again plus its delivery. A node
   * listening for longer heard every announcement made on the channel meanwhile.
   */
  boolean mayHaveMissedAnnouncements(long now) {
    return !connected
        || now - connectedAt
            < timing.expireAfter().toNanos()
                + Announcing.longestDelayNanos(timing.heartbeatInterval())
                + timing.probeReplyWindow().toNanos();
  }

  /**
   * Whether a node not yet joined when this session began may still be unheard: it is heard again
   * only at its next heartbeat, so this waits the longest delay to that heartbeat (the interval and
   * its jitter) and one reply window for its delivery.
   */
  boolean youngerThanAHeartbeat(long now) {
    return now - connectedAt
        < Announcing.longestDelayNanos(timing.heartbeatInterval())
            + timing.probeReplyWindow().toNanos();
  }

  /**
   * A signed message stamped before this session began: a copy played back, as a probe of everybody
   * sent then would have been committed before this node listened, and unheard. Taking its answers
   * for its own would make a newcomer ready with only what answered that copy. (Unsigned messages
   * carry no time; anyone could send them anyway.)
   */
  boolean stampedBefore(MessageCodec.Envelope envelope) {
    return signed && envelope.timestampMillis() < connectedWallMillis;
  }
}
