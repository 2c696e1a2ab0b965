package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.notices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.ProtocolFixtures.Parts;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule of what enters the view, on its own: how long an announcement and a roster's entry keep
 * their node, and what is refused (defaults: expiry 15 s, a watched peer's stay 60 s).
 */
final class ViewIntakeTest {

  private static final long WATCHED_STAY = 60 * SECOND;

  private final Parts node = Parts.of(node(8558), s -> s);
  private final List<Effect> out = new ArrayList<>();

  private boolean holds(Announcement peer, long now) {
    return node.peers().contactPoints(SERVICE, node.self(), now).contains(peer);
  }

  private boolean rostered(long now, Message.Roster.Entry... entries) {
    Message.Roster roster =
        new Message.Roster(
            SERVICE, "a-responder", node.self().incarnation(), 0, 1, List.of(entries));
    return node.intake().rostered(roster, now, T0, out);
  }

  @Test
  void
      anAnnouncementKeepsItsNodeForTheExpiryAndAWatchedOneForTheWatchedStayUnlessTheClusterHasItUp() {
    Announcement heartbeating = node(8600);
    Announcement watched = node(8601);
    Announcement member = node(8602);
    node.members().up(member.address(), member.uid());

    node.intake().announced(new Message.Announce(heartbeating), T0, out);
    node.intake().announced(Message.Announce.watched(watched), T0, out);
    node.intake().announced(Message.Announce.watched(member), T0, out);

    assertTrue(holds(heartbeating, T0 + 15 * SECOND));
    assertFalse(holds(heartbeating, T0 + 15 * SECOND + 1));
    assertTrue(holds(watched, T0 + WATCHED_STAY));
    assertFalse(holds(watched, T0 + WATCHED_STAY + 1));
    assertTrue(holds(member, T0 + 24 * 3600 * SECOND), "until the cluster removes it");
    assertEquals(3, out.stream().filter(Effect.PeerAdded.class::isInstance).count());
  }

  @Test
  void aRostersEntryKeepsTheRespondersRemainingExpiryCappedAtTheLongestStay() {
    Announcement soon = node(8600);
    Announcement forged = node(8601);

    assertTrue(
        rostered(
            T0,
            new Message.Roster.Entry(soon, 2000),
            new Message.Roster.Entry(forged, MessageCodec.MAX_TTL_MILLIS)));

    assertTrue(holds(soon, T0 + 2 * SECOND));
    assertFalse(holds(soon, T0 + 2 * SECOND + 1));
    assertTrue(holds(forged, T0 + WATCHED_STAY));
    assertFalse(holds(forged, T0 + WATCHED_STAY + 1), "capped at the longest stay");
  }

  @Test
  void aRosterCannotShortenTheStayOfAPeerThisNodesClusterHasUp() {
    // Cluster events reach members at different moments: a responder that has not yet heard that
    // a member is Up passes on how long it would keep it (58 s), not that its cluster watches it.
    Announcement member = node(8600);
    node.members().up(member.address(), member.uid());
    node.intake().announced(Message.Announce.watched(member), T0 - SECOND, out);

    assertTrue(rostered(T0, new Message.Roster.Entry(member, 58_000)));

    assertTrue(
        holds(member, T0 + 24 * 3600 * SECOND), "kept until its cluster removes it, as before");
  }

  @Test
  void anEmptyRosterProlongsForGoodOnlyTheWatchedPeersThisNodesClusterHasUp() {
    Announcement member = node(8600);
    Announcement removedUnheard = node(8601);
    node.members().up(member.address(), member.uid());
    node.intake().announced(Message.Announce.watched(member), T0, out);
    node.intake().announced(Message.Announce.watched(removedUnheard), T0, out);

    // "Nothing you do not know", heard by a joined node from a responder whose cluster may not yet
    // have told it that the other one was removed.
    node.intake().sameViewHeard(T0 + SECOND, true);

    assertTrue(holds(member, T0 + 24 * 3600 * SECOND));
    assertTrue(holds(removedUnheard, T0 + SECOND + WATCHED_STAY));
    assertFalse(
        holds(removedUnheard, T0 + SECOND + WATCHED_STAY + 1),
        "a watched peer's stay from the empty roster, not for good");
  }

  @Test
  void aRosterForAnotherNodeOrAServiceNotKeptIsCountedAndDropped() {
    Message.Roster misaddressed =
        new Message.Roster(
            SERVICE,
            "a-responder",
            "somebody-else",
            0,
            1,
            List.of(new Message.Roster.Entry(node(8600), 5000)));
    Message.Roster otherService =
        new Message.Roster("billing", "a-responder", node.self().incarnation(), 0, 1, List.of());

    assertFalse(node.intake().rostered(misaddressed, T0, T0, out));
    assertFalse(node.intake().rostered(otherService, T0, T0, out));

    assertEquals(1L, node.counters().rejected().get(Reason.MISADDRESSED));
    assertEquals(1L, node.counters().rejected().get(Reason.OTHER_SERVICE));
    assertEquals(0, node.peers().size());
  }

  @Test
  void aRosterNeverEntersThisNodeNorItsOwnContactPoint() {
    Announcement self = node.self();
    Announcement onOwnContactPoint =
        new Announcement(
            SERVICE, self.host(), self.port(), "akka://orders@elsewhere:25520", 5, "x");

    rostered(
        T0,
        new Message.Roster.Entry(self, 5000),
        new Message.Roster.Entry(onOwnContactPoint, 5000));

    assertEquals(0, node.peers().size());
    assertFalse(node.ownEndpoint().active(T0), "a roster's word is no clash");
  }

  @Test
  void anotherNodeAnnouncingThisNodesContactPointIsAClashLoggedOnceAndEndedByItsGoodbye() {
    Announcement self = node.self();
    Announcement impostor =
        new Announcement(
            SERVICE, self.host(), self.port(), "akka://orders@elsewhere:25520", 5, "x");

    node.intake().announced(new Message.Announce(impostor), T0, out);
    node.intake().announced(new Message.Announce(impostor), T0 + SECOND, out);

    assertEquals(1, notices(out, Level.ERROR).size(), out::toString);
    assertEquals(1L, node.counters().clashesDetected());
    assertTrue(node.ownEndpoint().active(T0 + SECOND));
    assertEquals(0, node.peers().size(), "not a peer");
    node.intake().goodbye(impostor, out);
    assertFalse(node.ownEndpoint().active(T0 + SECOND + MS));
  }

  @Test
  void aGoodbyeRemovesItsNodeAndRetiresItsIncarnation() {
    Announcement peer = node(8600);
    node.intake().announced(new Message.Announce(peer), T0, out);

    node.intake().goodbye(peer, out);
    node.intake().announced(new Message.Announce(peer), T0 + SECOND, out);

    assertTrue(out.contains(new Effect.PeerRemoved(peer, "said goodbye")));
    assertFalse(holds(peer, T0 + SECOND));
    assertEquals(1L, node.counters().rejected().get(Reason.RETIRED));
  }

  @Test
  void nodesOfTheOtherToolkitAreCountedEachTimeAndLoggedAtMostOnceAMinute() {
    Announcement pekko =
        new Announcement(SERVICE, "10.0.0.77", 7626, "pekko://orders@10.0.0.77:25520", 9, "p");

    node.intake().announced(new Message.Announce(pekko), T0, out);
    node.intake().announced(new Message.Announce(pekko), T0 + 60 * SECOND - 1, out);
    assertEquals(1, notices(out, Level.ERROR).size());
    node.intake().announced(new Message.Announce(pekko), T0 + 60 * SECOND, out);

    assertEquals(2, notices(out, Level.ERROR).size());
    assertEquals(3L, node.counters().rejected().get(Reason.OTHER_TOOLKIT));
    assertEquals(0, node.peers().size());
  }
}
