package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The rule of cluster members on its own: the cluster, by address and uid, is what vouches for a
 * peer that says its cluster watches it.
 */
final class ClusterMembersTest {

  private static final long WATCHED_STAY = 60 * SECOND;

  private final ClusterMembers members = new ClusterMembers(100, WATCHED_STAY);
  private final PeerTable peers = new PeerTable(100, 16);

  private static Announcement withUid(Announcement node, long uid) {
    return new Announcement(
        node.service(), node.host(), node.port(), node.address(), uid, node.incarnation() + uid);
  }

  @Test
  void aMemberTheClusterHasUpIsKeptUntilItIsRemovedAndOtherwiseForTheWatchedStay() {
    Announcement peer = node(8600);
    assertFalse(members.vouchesFor(peer));
    assertEquals(WATCHED_STAY, members.watchedTtlNanos(peer));

    members.up(peer.address(), peer.uid());
    assertTrue(members.vouchesFor(peer));
    assertEquals(ClusterMembers.WATCHED_BY_THE_CLUSTER_NANOS, members.watchedTtlNanos(peer));

    members.removed(peer.address(), peer.uid());
    assertFalse(members.vouchesFor(peer));
    assertEquals(WATCHED_STAY, members.watchedTtlNanos(peer));
  }

  @Test
  void theRemovalOfAPredecessorLeavesItsSuccessorOnTheSameAddressVouchedFor() {
    Announcement predecessor = withUid(node(8600), 1);
    Announcement successor = withUid(node(8600), 2);
    members.up(predecessor.address(), predecessor.uid());
    members.up(successor.address(), successor.uid());

    members.removed(predecessor.address(), predecessor.uid());

    assertFalse(members.vouchesFor(predecessor));
    assertTrue(members.vouchesFor(successor));
  }

  @Test
  void aMemberUpIsUnheardUntilThePeersHoldAContactPointForItByUidOrByAddressAlone() {
    Announcement peer = withUid(node(8600), 5);
    assertFalse(members.anyUnheard(peers), "nobody Up");
    members.up(peer.address(), peer.uid());
    assertTrue(members.anyUnheard(peers));

    peers.keep(SERVICE);
    peers.admit(withUid(peer, 6), T0, 15 * SECOND);
    assertTrue(members.anyUnheard(peers), "another uid on that address is another member");
    peers.admit(withUid(node(8601), 0), T0, 15 * SECOND);
    assertTrue(members.anyUnheard(peers), "another address");
    PeerTable other = new PeerTable(100, 16);
    other.keep(SERVICE);
    other.admit(withUid(node(8600), 0), T0, 15 * SECOND);
    assertFalse(members.anyUnheard(other), "an announcement without a uid matches the address");
    other.admit(peer, T0, 15 * SECOND);
    assertFalse(members.anyUnheard(other));
  }

  @Test
  void itVouchesForEveryWatchedPeerOnlyWhenTheClusterHasEachOfThemUp() {
    peers.keep(SERVICE);
    Announcement watched = node(8600);
    Announcement heartbeating = node(8601);
    peers.admit(watched, T0, WATCHED_STAY);
    peers.watched(watched, true);
    peers.admit(heartbeating, T0, 15 * SECOND);

    assertFalse(members.vouchForEveryWatched(peers, SERVICE, T0));
    members.up(watched.address(), watched.uid());
    assertTrue(
        members.vouchForEveryWatched(peers, SERVICE, T0),
        "a peer that heartbeats needs nobody to vouch for it");
  }
}
