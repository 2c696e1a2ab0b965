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

  /** An arbitrary starting point on the monotonic clock; nanoTime values have no meaning on their own. */
  private static final long T0 = 1_234_567_890_123L;

  /** This node, in a service none of the tests look up, so it stays out of their results. */
  private static final Announcement SELF_ELSEWHERE = node("inventory", "10.0.9.9", 8558, "self-inventory");

  private final PeerTable table = new PeerTable(EXPIRE_AFTER);

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
    assertEquals(List.of(fresh), table.contactPoints("orders", SELF_ELSEWHERE, T0 + EXPIRE_AFTER + 1));
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
    assertEquals(List.of(slow), table.contactPoints("orders", SELF_ELSEWHERE, T0 + 6 * EXPIRE_AFTER));
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

    assertEquals(List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, nearOverflow + 10 * SECOND));
    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, nearOverflow + EXPIRE_AFTER + 1));
  }

  @Test
  void tableRefusesANonPositiveExpiry() {
    assertThrows(IllegalArgumentException.class, () -> new PeerTable(0));
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
  void forgetAkkaAddressRemovesEveryEntryOfThatAddressAndNothingElse() {
    String removedAddress = "akka://orders@10.0.0.1:25520";
    Announcement orders = new Announcement("orders", "10.0.0.1", 8558, removedAddress, "a1");
    Announcement secondEndpoint = new Announcement("orders", "10.0.0.1", 8559, removedAddress, "a1");
    Announcement other = node("orders", "10.0.0.2", 8558, "b1");
    table.heard(orders, T0);
    table.heard(secondEndpoint, T0);
    table.heard(other, T0);

    assertEquals(2, table.forgetAkkaAddress(removedAddress));
    assertEquals(List.of(other), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  @Test
  void lateHeartbeatOfAForgottenIncarnationIsNotTakenBack() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);
    table.forgetAkkaAddress(peer.akkaAddress());

    assertFalse(table.heard(peer, T0 + SECOND));
    assertEquals(List.of(), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  @Test
  void newIncarnationOnAForgottenAkkaAddressIsTakenIn() {
    Announcement old = node("orders", "10.0.0.1", 8558, "old");
    Announcement restarted = node("orders", "10.0.0.1", 8558, "new");
    assertEquals(old.akkaAddress(), restarted.akkaAddress());
    table.heard(old, T0);
    table.forgetAkkaAddress(old.akkaAddress());

    assertTrue(table.heard(restarted, T0 + SECOND));
    assertEquals(List.of(restarted), table.contactPoints("orders", SELF_ELSEWHERE, T0 + SECOND));
  }

  @Test
  void forgetAkkaAddressOfAnUnknownAddressRemovesNothing() {
    Announcement peer = node("orders", "10.0.0.1", 8558, "a1");
    table.heard(peer, T0);

    assertEquals(0, table.forgetAkkaAddress("akka://orders@10.0.0.7:25520"));
    assertEquals(List.of(peer), table.contactPoints("orders", SELF_ELSEWHERE, T0));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Contact points: order, self, services

  @Test
  void contactPointsAreOrderedByHostThenPortWhateverTheInsertionOrder() {
    List<Announcement> sorted = List.of(
        node("orders", "10.0.0.1", 2552, "a"),
        node("orders", "10.0.0.1", 8558, "b"),
        node("orders", "10.0.0.10", 8558, "c"),
        node("orders", "10.0.0.2", 8558, "d"),
        node("orders", "node-a", 80, "e"),
        node("orders", "node-b", 8558, "f"));
    List<Announcement> reversed = new ArrayList<>(sorted);
    Collections.reverse(reversed);
    List<Announcement> shuffled = List.of(
        sorted.get(3), sorted.get(0), sorted.get(5), sorted.get(2), sorted.get(4), sorted.get(1));

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

  private static Announcement node(String service, String host, int port, String incarnation) {
    return new Announcement(service, host, port, "akka://" + service + "@" + host + ":25520", incarnation);
  }

  private static List<Announcement> contactPointsAfterHearing(List<Announcement> nodes) {
    PeerTable fresh = new PeerTable(EXPIRE_AFTER);
    long now = T0;
    for (Announcement node : nodes) {
      fresh.heard(node, now);
      now += SECOND;
    }
    return fresh.contactPoints("orders", SELF_ELSEWHERE, now);
  }

  @Test
  void fullServiceRefusesNewContactPointsButKeepsRefreshingKnownOnesAndOtherServices() {
    PeerTable bounded = new PeerTable(EXPIRE_AFTER, 2);
    Announcement first = node("orders", "10.0.0.1", 8558, "a1");
    Announcement second = node("orders", "10.0.0.2", 8558, "a2");
    bounded.admit(first, T0);
    bounded.admit(second, T0);

    assertEquals(PeerTable.Admission.FULL, bounded.admit(node("orders", "10.0.0.3", 8558, "a3"), T0));
    assertEquals(PeerTable.Admission.REFRESHED, bounded.admit(first, T0 + SECOND));
    assertEquals(PeerTable.Admission.NEW, bounded.admit(node("billing", "10.0.0.3", 8558, "b1"), T0));
    assertEquals(2, bounded.contactPoints("orders", null, T0 + SECOND).size());
  }

  @Test
  void expiredEntriesFreeTheirPlaceInAFullService() {
    PeerTable bounded = new PeerTable(EXPIRE_AFTER, 1);
    bounded.admit(node("orders", "10.0.0.1", 8558, "a1"), T0);

    assertEquals(PeerTable.Admission.NEW, bounded.admit(node("orders", "10.0.0.2", 8558, "a2"), T0 + EXPIRE_AFTER + 1));
  }
}
