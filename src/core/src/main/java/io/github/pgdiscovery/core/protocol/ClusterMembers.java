package io.github.pgdiscovery.core.protocol;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The rule of cluster members: the members of this node's cluster that are Up, as the cluster told
 * it, by address and uid. The cluster is the authority on them: a peer whose cluster watches it is
 * kept for good only while the cluster has it Up, and only a member's cluster vouches for it in a
 * roster, since only the cluster knows when one leaves. Neither a peer removed while this node was
 * not in the cluster to hear it nor a forged announcement can stay for good.
 */
final class ClusterMembers {

  /**
   * How long a member keeps a peer that its cluster watches: for as long as the process runs (fifty
   * years). Only the cluster (a removal), the peer (its goodbye) or a successor on its endpoint
   * take it out.
   */
  static final long WATCHED_BY_THE_CLUSTER_NANOS = TimeUnit.DAYS.toNanos(365L * 50);

  private static final int MIN_REMEMBERED = 4096;

  /**
   * "address#uid" of each member Up. Only the cluster adds to it, so it is bounded for memory's
   * sake only, by twice the contact points kept per service: a member forgotten here would no
   * longer be vouched for in rosters.
   */
  private final Map<String, Boolean> up;

  private final long watchedPeerTtlNanos;

  /**
   * @param watchedPeerTtlNanos how long a peer that says its cluster watches it stays unheard when
   *     this node's cluster has not told of it
   */
  ClusterMembers(int maxPeersPerService, long watchedPeerTtlNanos) {
    this.up = new BoundedMap<>(Math.max(MIN_REMEMBERED, 2 * maxPeersPerService), false);
    this.watchedPeerTtlNanos = watchedPeerTtlNanos;
  }

  void up(String address, long uid) {
    up.put(PeerTable.memberKey(address, uid), Boolean.TRUE);
  }

  void removed(String address, long uid) {
    up.remove(PeerTable.memberKey(address, uid));
  }

  /** Whether the cluster told this node that {@code node} is Up. */
  boolean vouchesFor(Announcement node) {
    return up.containsKey(PeerTable.memberKey(node.address(), node.uid()));
  }

  /**
   * How long a peer that says its cluster watches it stays here unheard: until the cluster removes
   * it, if the cluster told this node it is Up; else until a roster or the peer confirms it again,
   * within the watched peer's stay.
   */
  long watchedTtlNanos(Announcement node) {
    return vouchesFor(node) ? WATCHED_BY_THE_CLUSTER_NANOS : watchedPeerTtlNanos;
  }

  /** Whether a member is Up that {@code peers} hold no contact point for. */
  boolean anyUnheard(PeerTable peers) {
    Set<String> held = peers.memberKeys();
    for (String member : up.keySet()) {
      String withoutUid = PeerTable.memberKey(member.substring(0, member.lastIndexOf('#')), 0);
      if (!held.contains(member) && !held.contains(withoutUid)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the cluster has every watched peer of {@code service} that {@code peers} hold Up. */
  boolean vouchForEveryWatched(PeerTable peers, String service, long now) {
    for (PeerTable.Live live : peers.live(service, now)) {
      if (live.watched() && !vouchesFor(live.node())) {
        return false;
      }
    }
    return true;
  }
}
