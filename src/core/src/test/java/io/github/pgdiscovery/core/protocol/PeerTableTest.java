package io.github.pgdiscovery.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

final class PeerTableTest {

  private static final long EXPIRE_AFTER = Duration.ofSeconds(15).toNanos();
  private static final long SECOND = Duration.ofSeconds(1).toNanos();

  /**
   * An arbitrary starting point on the monotonic clock; nanoTime values have no meaning on their
   * own.
   */
  private static final long T0 = 1_234_567_890_123L;

  /** This node, in a service none of the tests look up, so it stays out of their results. */
  private static final Announcement SELF_ELSEWHERE =
      node("inventory", "10.0.9.9", 8558, "self-inventory");

  private final Table table = new Table(Integer.MAX_VALUE);

  // ---------------------------------------------------------------------------------------------------------------
  // Hearing and expiry

  @Test
  void heardPeerAppearsInContactPointsOfItsService() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");

    table.heard(peer, T0);

    assertEquals(List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void heardReportsANewEndpointButNotARepeatedHeartbeat() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");

    assertTrue(table.heard(peer, T0));
    assertFalse(table.heard(peer, T0 + 5 * SECOND));
  }

  @Test
  void rankCountsTheLiveContactPointsBeforeANodeLeavingOutTheProberOtherServicesAndTheExpired() {
    Announcement self = node("orders", "10.0.0.5", 8558, "self");
    Announcement first = node("orders", "10.0.0.1", 8558, "a1");
    Announcement prober = node("orders", "10.0.0.2", 8558, "prober");
    Announcement expired = node("orders", "10.0.0.3", 8558, "gone");
    Announcement watched = node("orders", "10.0.0.4", 8558, "w1");
    Announcement after = node("orders", "10.0.0.6", 8558, "late");
    table.admit(expired, T0);
    long now = T0 + EXPIRE_AFTER + SECOND;
    for (Announcement node :
        List.of(first, prober, watched, after, node("billing", "10.0.0.0", 8558, "b1"))) {
      table.admit(node, now - SECOND);
    }
    table.table.watched(watched, true);

    assertEquals(-1, table.table.rankUnlessWatched(self, "nobody", now, 10), "members are known");
    assertEquals(
        2,
        table.table.rankUnlessWatched(self, watched.incarnation(), now, 10),
        "the watched one is the prober: first and prober come before");
    assertEquals(
        1,
        table.table.rankUnlessWatched(self, watched.incarnation(), now, 1),
        "counting stops at enough");
    assertEquals(
        1,
        table.table.rankAmongWatched(self, prober.incarnation(), now, 10),
        "only the watched one counts");
    assertEquals(
        0,
        table.table.rankAmongWatched(self, watched.incarnation(), now, 10),
        "the prober is left out");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Vouched for by a roster

  @Test
  void aVouchProlongsWhatWasHeardDirectlyButNeverShortensIt() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.admit(peer, T0, 10 * EXPIRE_AFTER);

    assertEquals(PeerTable.Admission.REFRESHED, table.table.vouch(peer, T0 + SECOND, SECOND, T0));
    assertEquals(
        List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 5 * EXPIRE_AFTER));

    table.table.vouch(peer, T0 + SECOND, 20 * EXPIRE_AFTER, T0);
    assertEquals(
        List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 15 * EXPIRE_AFTER));
  }

  @Test
  void aVouchForAnotherIncarnationLosesToOneHeardOnThisConnectionAndWinsOverOneHeardBefore() {
    Announcement restarted = node("orders", "10.0.0.1", 8558, "a2");
    Announcement predecessor = node("orders", "10.0.0.1", 8558, "a1");
    long connectedAt = T0 + SECOND;
    table.admit(restarted, T0 + 2 * SECOND);

    assertEquals(
        PeerTable.Admission.STALE,
        table.table.vouch(predecessor, T0 + 3 * SECOND, EXPIRE_AFTER, connectedAt));
    assertEquals(
        List.of(restarted), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 3 * SECOND));

    Announcement heardLastTime = node("orders", "10.0.0.2", 8558, "b1");
    Announcement restartedMeanwhile = node("orders", "10.0.0.2", 8558, "b2");
    table.admit(heardLastTime, T0);
    assertEquals(
        PeerTable.Admission.NEW,
        table.table.vouch(restartedMeanwhile, T0 + 3 * SECOND, EXPIRE_AFTER, connectedAt));
    assertEquals(
        List.of(restarted, restartedMeanwhile),
        table.contactPoints("orders", SELF_ELSEWHERE, T0 + 3 * SECOND));
  }

  @Test
  void peerNotHeardForLongerThanExpireAfterIsLeftOutOfContactPoints() {
    table.heard(node("orders", "10.0.0.1", 8558, "a1"), T0);

    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, T0 + EXPIRE_AFTER + 1));
  }

  @Test
  void peerExactlyAtTheExpiryBoundaryStays() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);

    assertEquals(List.of(), table.expire(T0 + EXPIRE_AFTER));
    assertEquals(List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0 + EXPIRE_AFTER));
  }

  @Test
  void expireReturnsAndRemovesOnlyThePeersPastExpiry() {
    Announcement stale = node("orders", "10.0.0.1", 8558, "a1");
    Announcement fresh = node("orders", "10.0.0.2", 8558, "b1");
    table.heard(stale, T0);
    table.heard(fresh, T0 + 5 * SECOND);

    List<Announcement> expired = table.expire(T0 + EXPIRE_AFTER + 1);

    assertEquals(List.of(stale), expired);
    assertEquals(1, table.size());
    assertEquals(
        List.of(fresh), table.contactPoints("orders", SELF_ELSEWHERE, T0 + EXPIRE_AFTER + 1));
  }

  @Test
  void heartbeatRenewsThePeerSoItOutlivesItsFirstExpiry() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);
    table.heard(peer, T0 + 10 * SECOND);

    assertEquals(List.of(), table.expire(T0 + 20 * SECOND));
    assertEquals(List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 20 * SECOND));
  }

  @Test
  void peerAdmittedWithItsOwnLongerExpiryOutlivesTheTableExpiryButNotItsOwn() {
    Announcement slow = node("orders", "10.0.0.1", 8558, "a1");
    Announcement normal = node("orders", "10.0.0.2", 8558, "b1");
    table.admit(slow, T0, 6 * EXPIRE_AFTER);
    table.admit(normal, T0);

    assertEquals(List.of(normal), table.expire(T0 + EXPIRE_AFTER + 1));
    assertEquals(
        List.of(slow), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 6 * EXPIRE_AFTER));
    assertEquals(List.of(slow), table.expire(T0 + 6 * EXPIRE_AFTER + 1));
  }

  @Test
  void aPeerThatAnnouncesAtTheNormalRateAgainGetsTheTableExpiryBack() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.admit(peer, T0, 6 * EXPIRE_AFTER);
    table.admit(peer, T0 + SECOND);

    assertEquals(List.of(peer), table.expire(T0 + SECOND + EXPIRE_AFTER + 1));
  }

  @Test
  void peerHeardAgainAfterExpiringIsReportedAsNew() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);

    assertTrue(table.heard(peer, T0 + EXPIRE_AFTER + 1));
  }

  @Test
  void expiryIsMeasuredCorrectlyWhenTheNanoTimeClockWrapsAround() {
    long nearOverflow = Long.MAX_VALUE - SECOND;
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, nearOverflow);

    assertEquals(
        List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, nearOverflow + 10 * SECOND));
    assertEquals(
        List.of(), table.contactPoints("orders", SELF_ELSEWHERE, nearOverflow + EXPIRE_AFTER + 1));
  }

  @Test
  void tableRefusesANonPositiveExpiry() {
    assertThrows(
        IllegalArgumentException.class,
        () -> table.table.admit(node("orders", "10.0.0.1", 8558, "a1"), T0, 0));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Incarnations and goodbyes

  @Test
  void newerIncarnationOnTheSameEndpointReplacesTheOld() {
    Announcement old = node("orders", "10.0.0.1", 8558, "old");
    Announcement restarted = node("orders", "10.0.0.1", 8558, "new");
    table.heard(old, T0);

    assertTrue(table.heard(restarted, T0 + SECOND));
    assertEquals(List.of(restarted), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  @Test
  void goodbyeFromTheCurrentIncarnationRemovesIt() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);

    assertTrue(table.goodbye(peer));
    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void goodbyeFromOldIncarnationLeavesNewIncarnationInPlace() {
    Announcement old = node("orders", "10.0.0.1", 8558, "old");
    Announcement restarted = node("orders", "10.0.0.1", 8558, "new");
    table.heard(old, T0);
    table.heard(restarted, T0 + SECOND);

    assertFalse(table.goodbye(old));
    assertEquals(List.of(restarted), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  @Test
  void lateHeartbeatFromAnIncarnationThatSaidGoodbyeIsNotTakenBack() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);
    table.goodbye(peer);

    assertFalse(table.heard(peer, T0 + SECOND));
    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  @Test
  void goodbyeOvertakingTheAnnouncementStillKeepsThatIncarnationOut() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.goodbye(peer);

    table.heard(peer, T0);

    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void newIncarnationAfterAGoodbyeOnTheSameEndpointIsTakenIn() {
    Announcement old = node("orders", "10.0.0.1", 8558, "old");
    Announcement restarted = node("orders", "10.0.0.1", 8558, "new");
    table.heard(old, T0);
    table.goodbye(old);

    assertTrue(table.heard(restarted, T0 + SECOND));
    assertEquals(List.of(restarted), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Removal from the cluster

  @Test
  void memberRemovedRemovesEveryEntryOfThatMemberAndNothingElse() {
    String removedAddress = "akka://orders@10.0.0.1:25520";
    Announcement orders = new Announcement("orders", "10.0.0.1", 8558, removedAddress, 1, "a1");
    Announcement secondEndpoint =
        new Announcement("orders", "10.0.0.1", 8559, removedAddress, 1, "a1");
    Announcement other = node("orders", "10.0.0.2", 8558, "b1");
    table.heard(orders, T0);
    table.heard(secondEndpoint, T0);
    table.heard(other, T0);

    assertEquals(2, table.memberRemoved(removedAddress, 1));
    assertEquals(List.of(other), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void lateHeartbeatOfAForgottenIncarnationIsNotTakenBack() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);
    table.memberRemoved(peer.address(), peer.uid());

    assertFalse(table.heard(peer, T0 + SECOND));
    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  @Test
  void newIncarnationOnTheAddressOfARemovedMemberIsTakenIn() {
    Announcement old = node("orders", "10.0.0.1", 8558, "old");
    Announcement restarted = node("orders", "10.0.0.1", 8558, "new");
    assertEquals(old.address(), restarted.address());
    table.heard(old, T0);
    table.memberRemoved(old.address(), old.uid());

    assertTrue(table.heard(restarted, T0 + SECOND));
    assertEquals(List.of(restarted), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  @Test
  void removalOfAnUnknownMemberRemovesNothing() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);

    assertEquals(0, table.memberRemoved("akka://orders@10.0.0.7:25520", peer.uid()));
    assertEquals(List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void memberFindsTheEntriesHeldUnderAnAddressThroughRestartsClashesAndRemovals() {
    long watchedTtl = 365L * 86_400 * SECOND;
    String addressA = "akka://orders@10.0.0.1:25520";
    String addressB = "akka://orders@10.0.0.9:25520";
    Announcement first = node("orders", "10.0.0.1", 8558, addressA, 1, "a1");
    Announcement secondEndpoint = node("orders", "10.0.0.1", 8559, addressA, 1, "a1");
    Announcement elsewhere = node("orders", "10.0.0.1", 8558, addressB, 2, "a2");
    assertFalse(table.table.member(addressA, 1, watchedTtl));

    table.heard(first, T0);
    assertFalse(table.table.member(addressA, 7, watchedTtl));
    assertTrue(table.table.member(addressA, 1, watchedTtl));
    table.heard(secondEndpoint, T0);
    assertTrue(table.table.member(addressA, 1, watchedTtl));
    // Both endpoints are watched now and outlive the table's expiry.
    assertEquals(List.of(), table.expire(T0 + 2 * EXPIRE_AFTER));

    // A restart on the first endpoint under another address: the new address holds the first
    // endpoint, the old one the second.
    long t1 = T0 + 2 * EXPIRE_AFTER;
    table.admit(elsewhere, t1);
    assertTrue(table.table.member(addressB, 2, EXPIRE_AFTER));
    assertTrue(table.table.member(addressA, 1, watchedTtl));
    // The replaced incarnation is heard again: a clash. When the newer one goes quiet, the older
    // one holds the endpoint again, under its own address.
    table.admit(first, t1 + SECOND);
    table.admit(first, t1 + EXPIRE_AFTER);
    table.table.expire(t1 + EXPIRE_AFTER + 2 * SECOND);
    assertEquals(
        List.of(first, secondEndpoint),
        table.contactPoints("orders", SELF_ELSEWHERE, t1 + EXPIRE_AFTER + 2 * SECOND));
    assertFalse(table.table.member(addressB, 2, watchedTtl));
    assertTrue(table.table.member(addressA, 1, watchedTtl));

    assertEquals(2, table.memberRemoved(addressA, 1));
    assertFalse(table.table.member(addressA, 1, watchedTtl));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Contact points: order, self, services

  @Test
  void contactPointsAreOrderedByHostThenPortWhateverTheInsertionOrder() {
    List<Announcement> sorted =
        List.of(
            node("orders", "10.0.0.1", 2552, "a"),
            node("orders", "10.0.0.1", 8558, "b"),
            node("orders", "10.0.0.10", 8558, "c"),
            node("orders", "10.0.0.2", 8558, "d"),
            node("orders", "node-a", 80, "e"),
            node("orders", "node-b", 8558, "f"));
    List<Announcement> reversed = new ArrayList<>(sorted);
    Collections.reverse(reversed);
    List<Announcement> shuffled =
        List.of(
            sorted.get(3),
            sorted.get(0),
            sorted.get(5),
            sorted.get(2),
            sorted.get(4),
            sorted.get(1));

    assertEquals(sorted, contactPointsAfterHearing(sorted));
    assertEquals(sorted, contactPointsAfterHearing(reversed));
    assertEquals(sorted, contactPointsAfterHearing(shuffled));
  }

  @Test
  void selfIsAContactPointOfItsOwnServiceEvenWithAnEmptyTable() {
    Announcement self = node("orders", "10.0.0.5", 8558, "self");

    assertEquals(List.of(self), table.contactPoints("orders", self, T0));
  }

  @Test
  void selfTakesItsPlaceInHostOrderAmongPeers() {
    Announcement self = node("orders", "10.0.0.2", 8558, "self");
    Announcement first = node("orders", "10.0.0.1", 8558, "a1");
    Announcement last = node("orders", "10.0.0.3", 8558, "c1");
    table.heard(last, T0);
    table.heard(first, T0);

    assertEquals(List.of(first, self, last), table.contactPoints("orders", self, T0));
  }

  @Test
  void selfIsNotAContactPointOfAnotherService() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);

    assertEquals(List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void selfIsListedOnceWhenTheTableAlsoHoldsItsEndpoint() {
    Announcement self = node("orders", "10.0.0.5", 8558, "self");
    table.heard(self, T0);

    assertEquals(List.of(self), table.contactPoints("orders", self, T0));
  }

  @Test
  void selfReplacesAnEarlierIncarnationOfItsOwnEndpoint() {
    Announcement previousLife = node("orders", "10.0.0.5", 8558, "before-restart");
    Announcement self = node("orders", "10.0.0.5", 8558, "self");
    table.heard(previousLife, T0);

    assertEquals(List.of(self), table.contactPoints("orders", self, T0));
  }

  @Test
  void selfStaysAContactPointWhenItsOwnTableEntryHasExpired() {
    Announcement self = node("orders", "10.0.0.5", 8558, "self");
    table.heard(self, T0);

    assertEquals(List.of(self), table.contactPoints("orders", self, T0 + EXPIRE_AFTER + 1));
  }

  @Test
  void peersOfOtherServicesAreExcluded() {
    Announcement orders = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(orders, T0);
    table.heard(node("billing", "10.0.0.2", 8558, "b1"), T0);
    table.heard(node("orders-staging", "10.0.0.3", 8558, "c1"), T0);

    assertEquals(List.of(orders), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void sameEndpointAnnouncedForTwoServicesIsAContactPointOfEach() {
    Announcement asOrders = node("orders", "10.0.0.1", 8558, "a1");
    Announcement asBilling = node("billing", "10.0.0.1", 8558, "a1");
    table.heard(asOrders, T0);
    table.heard(asBilling, T0);

    assertEquals(List.of(asOrders), table.contactPoints("orders", SELF_ELSEWHERE, T0));
    assertEquals(List.of(asBilling), table.contactPoints("billing", SELF_ELSEWHERE, T0));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Helpers

  private static Announcement node(
      String service, String host, int port, String address, long uid, String incarnation) {
    return new Announcement(service, host, port, address, uid, incarnation);
  }

  /**
   * The table as the protocol uses it, with the services of these tests kept and the table's expiry
   * run before every admission, as the protocol does.
   */
  private static final class Table {
    final PeerTable table;

    Table(int maxPerService) {
      table = new PeerTable(maxPerService, 16);
      for (String service : List.of("orders", "billing", "orders-staging", "inventory")) {
        table.keep(service);
      }
    }

    boolean heard(Announcement node, long now) {
      return admit(node, now) == PeerTable.Admission.NEW;
    }

    PeerTable.Admission admit(Announcement node, long now) {
      return admit(node, now, EXPIRE_AFTER);
    }

    PeerTable.Admission admit(Announcement node, long now, long expireAfter) {
      table.expire(now);
      return table.admit(node, now, expireAfter);
    }

    boolean goodbye(Announcement node) {
      return table.goodbye(node);
    }

    int memberRemoved(String address, long uid) {
      return table.memberRemoved(address, uid).size();
    }

    List<Announcement> expire(long now) {
      return table.expire(now).stream().map(PeerTable.Departure::node).toList();
    }

    List<Announcement> contactPoints(String service, Announcement self, long now) {
      return table.contactPoints(service, self, now);
    }

    int size() {
      return table.size();
    }
  }

  private static Announcement node(String service, String host, int port, String incarnation) {
    return new Announcement(
        service,
        host,
        port,
        "akka://" + service + "@" + host + ":25520",
        incarnation.hashCode(),
        incarnation);
  }

  private static List<Announcement> contactPointsAfterHearing(List<Announcement> nodes) {
    Table fresh = new Table(Integer.MAX_VALUE);
    long now = T0;
    for (Announcement node : nodes) {
      fresh.heard(node, now);
      now += SECOND;
    }
    return fresh.contactPoints("orders", SELF_ELSEWHERE, now);
  }

  @Test
  void fullServiceRefusesNewContactPointsButKeepsRefreshingKnownOnesAndOtherServices() {
    Table bounded = new Table(2);
    Announcement first = node("orders", "10.0.0.1", 8558, "a1");
    Announcement second = node("orders", "10.0.0.2", 8558, "a2");
    bounded.admit(first, T0);
    bounded.admit(second, T0);

    assertEquals(
        PeerTable.Admission.FULL, bounded.admit(node("orders", "10.0.0.3", 8558, "a3"), T0));
    assertEquals(PeerTable.Admission.REFRESHED, bounded.admit(first, T0 + SECOND));
    assertEquals(
        PeerTable.Admission.NEW, bounded.admit(node("billing", "10.0.0.3", 8558, "b1"), T0));
    assertEquals(2, bounded.contactPoints("orders", null, T0 + SECOND).size());
  }

  @Test
  void expiredEntriesFreeTheirPlaceInAFullService() {
    Table bounded = new Table(1);
    bounded.admit(node("orders", "10.0.0.1", 8558, "a1"), T0);

    assertEquals(
        PeerTable.Admission.NEW,
        bounded.admit(node("orders", "10.0.0.2", 8558, "a2"), T0 + EXPIRE_AFTER + 1));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Restarts on the same address, clashes, bounds

  @Test
  void removalOfAMemberLeavesItsRestartedSuccessorOnTheSameAddressAlone() {
    // docker compose, StatefulSets: the node restarts on the same host and ports before the cluster
    // removes its
    // predecessor. The removal names the predecessor's uid, not the successor's.
    String address = "akka://orders@10.0.0.1:25520";
    Announcement predecessor = node("orders", "10.0.0.1", 8558, address, 111, "before");
    Announcement successor = node("orders", "10.0.0.1", 8558, address, 222, "after");
    table.heard(predecessor, T0);
    table.heard(successor, T0 + SECOND);

    assertEquals(0, table.memberRemoved(address, 111));
    assertEquals(PeerTable.Admission.REFRESHED, table.admit(successor, T0 + 2 * SECOND));
    assertEquals(
        List.of(successor), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 2 * SECOND));
  }

  @Test
  void heartbeatOfARetiredIncarnationIsRefusedAsRetired() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);
    table.memberRemoved(peer.address(), peer.uid());

    assertEquals(PeerTable.Admission.RETIRED, table.admit(peer, T0 + SECOND));
  }

  @Test
  void servicesTheTableDoesNotKeepAreNotStored() {
    assertEquals(
        PeerTable.Admission.OTHER_SERVICE,
        table.admit(node("invented-1", "10.0.0.1", 8558, "x"), T0));
    assertEquals(0, table.size());
  }

  @Test
  void theNumberOfServicesKeptIsBounded() {
    PeerTable bounded = new PeerTable(10, 2);

    assertTrue(bounded.keep("a"));
    assertTrue(bounded.keep("b"));
    assertTrue(bounded.keep("a"));
    assertFalse(bounded.keep("c"));
    assertEquals(List.of("a", "b"), bounded.keptServices());
  }

  @Test
  void replacedIncarnationHeardAgainIsAClashAndNeitherFlipsTheEntry() {
    Announcement first = node("orders", "10.0.0.1", 8558, "one");
    Announcement second = node("orders", "10.0.0.1", 8558, "two");
    table.heard(first, T0);
    assertEquals(PeerTable.Admission.NEW, table.admit(second, T0 + SECOND));

    assertEquals(PeerTable.Admission.CLASH, table.admit(first, T0 + 2 * SECOND));
    assertEquals(PeerTable.Admission.REFRESHED, table.admit(second, T0 + 3 * SECOND));
    assertEquals(PeerTable.Admission.REFRESHED, table.admit(first, T0 + 4 * SECOND));
    assertEquals(List.of(new PeerTable.Clash(second, first)), table.table.clashes(T0 + 4 * SECOND));
    assertEquals(List.of(second), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 4 * SECOND));
  }

  @Test
  void goodbyeFromOneSideOfAClashLeavesTheOtherInPlace() {
    Announcement first = node("orders", "10.0.0.1", 8558, "one");
    Announcement second = node("orders", "10.0.0.1", 8558, "two");
    table.heard(first, T0);
    table.heard(second, T0 + SECOND);
    table.admit(first, T0 + 2 * SECOND);

    assertFalse(table.goodbye(second));
    assertEquals(List.of(first), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 2 * SECOND));
    assertTrue(table.goodbye(first));
    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 2 * SECOND));
  }

  @Test
  void aClashEndsWhenOneSideGoesQuiet() {
    Announcement first = node("orders", "10.0.0.1", 8558, "one");
    Announcement second = node("orders", "10.0.0.1", 8558, "two");
    table.heard(first, T0);
    table.heard(second, T0 + SECOND);
    table.admit(first, T0 + 2 * SECOND);
    // Only the second goes on announcing.
    table.admit(second, T0 + 10 * SECOND);

    table.expire(T0 + 2 * SECOND + EXPIRE_AFTER + 1);

    assertEquals(List.of(), table.table.clashes(T0 + 2 * SECOND + EXPIRE_AFTER + 1));
    assertEquals(
        List.of(second),
        table.contactPoints("orders", SELF_ELSEWHERE, T0 + 2 * SECOND + EXPIRE_AFTER + 1));
  }

  @Test
  void prolongingWatchedEntriesAgainAndAgainQueuesAboutOneDeadlinePerEntry() {
    PeerTable table = new PeerTable(100, 16);
    table.keep(SERVICE_FOR_QUEUE);
    long now = 1_000_000_000L;
    for (int i = 0; i < 20; i++) {
      Announcement peer =
          new Announcement(
              SERVICE_FOR_QUEUE,
              "10.0.9." + (i + 1),
              8558,
              "akka://orders@10.0.9." + (i + 1) + ":25520",
              i + 1,
              "incarnation-" + i);
      table.admit(peer, now, 15_000_000_000L);
      table.watched(peer, true);
    }
    // A joined member hearing empty rosters: each one prolongs every watched entry.
    for (int roster = 0; roster < 1000; roster++) {
      table.prolongWatched(
          SERVICE_FOR_QUEUE, now + roster * 1_000_000L, node -> 365L * 86_400_000_000_000L);
    }

    assertTrue(table.queuedDeadlines() <= 40, table.queuedDeadlines() + " deadlines queued");
    // And expiry still works: a later deadline is taken up when the earlier one is due.
    assertEquals(List.of(), table.expire(now + 20_000_000_000L));
    assertEquals(20, table.live(SERVICE_FOR_QUEUE, now + 20_000_000_000L).size());
  }

  private static final String SERVICE_FOR_QUEUE = "queue-test";
}
