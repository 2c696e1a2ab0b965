package io.github.pgdiscovery.core.protocol;

/**
 * The rule of another live node announcing this node's own contact point (the same management host
 * and port): Cluster Bootstrap can reach only one of them there, so this node answers no lookups
 * until the other one stops announcing (a goodbye) or is not heard for its expiry.
 */
final class OwnEndpointClash {

  private Announcement other;
  private long lastHeard;
  private long expireAfter;

  /**
   * Heard {@code node} announce this node's contact point, to be kept {@code expireAfterNanos}.
   *
   * @return whether that is news (another incarnation than the one known, or none known now)
   */
  boolean heard(Announcement node, long now, long expireAfterNanos) {
    boolean isNew = !active(now) || !other.incarnation().equals(node.incarnation());
    other = node;
    lastHeard = now;
    expireAfter = expireAfterNanos;
    return isNew;
  }

  /** {@code node} said goodbye: if it was the other one, the clash is over. */
  void goodbye(Announcement node) {
    if (other != null && other.incarnation().equals(node.incarnation())) {
      other = null;
    }
  }

  boolean active(long now) {
    return other != null && now - lastHeard <= expireAfter;
  }

  /** The other node, while {@link #active}. */
  Announcement other() {
    return other;
  }
}
