package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.makeReady;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.protocol;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.sends;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Scenarios of what the cluster says, through the front: a member it removes leaves the view (and
 * its successor on the same address stays), a peer whose cluster watches it stays only while the
 * cluster vouches for it, a node waiting to join asks again for its watched peers, and a member
 * catches up on one the cluster has Up that nobody heard. See {@link ClusterMembers}, {@link
 * WatchedReprobe} and {@link CatchUp}.
 */
final class ClusterMembersScenariosTest {

  @Test
  void removalOfAPredecessorLeavesItsRestartedSuccessorOnTheSameAddressListed() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);
    MessageCodec peerCodec = new MessageCodec();
    Announcement predecessor =
        new Announcement(SERVICE, "10.0.0.9", 8558, "akka://orders@10.0.0.9:25520", 111, "old");
    Announcement successor =
        new Announcement(SERVICE, "10.0.0.9", 8558, "akka://orders@10.0.0.9:25520", 222, "new");
    protocol.received(peerCodec.encode(new Message.Announce(predecessor)), now, WALL0);
    protocol.received(peerCodec.encode(new Message.Announce(successor)), now + MS, WALL0);

    protocol.memberRemoved(predecessor.address(), predecessor.uid());
    protocol.received(peerCodec.encode(new Message.Announce(successor)), now + SECOND, WALL0);

    assertTrue(protocol.lookup(SERVICE, now + SECOND).orElseThrow().contains(successor));
    assertEquals(0L, protocol.snapshot(now + SECOND).rejected().get(Reason.RETIRED));
  }

  @Test
  void heartbeatsOfARemovedMemberAreCountedAsRetiredNotAccepted() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);
    Announcement peer = node(8600);
    String heartbeat = new MessageCodec().encode(new Message.Announce(peer));
    protocol.received(heartbeat, now, WALL0);
    long acceptedBefore = protocol.snapshot(now).accepted();

    List<Effect> removed = protocol.memberRemoved(peer.address(), peer.uid());
    protocol.received(heartbeat, now + SECOND, WALL0);

    assertTrue(removed.contains(new Effect.PeerRemoved(peer, "removed from the cluster")));
    assertEquals(acceptedBefore, protocol.snapshot(now + SECOND).accepted());
    assertEquals(1L, protocol.snapshot(now + SECOND).rejected().get(Reason.RETIRED));
    assertFalse(protocol.lookup(SERVICE, now + SECOND).orElseThrow().contains(peer));
  }

  @Test
  void aWatchedPeerTheClusterHasUpStaysUntilTheClusterRemovesIt() {
    DiscoveryProtocol member = protocol(node(8558), s -> s);
    long now = makeReady(member, T0);
    member.joined();
    Announcement peer = node(8600);
    member.memberUp(peer.address(), peer.uid());
    member.received(new MessageCodec().encode(Message.Announce.watched(peer)), now, WALL0);

    long aDayLater = now + 24 * 3600 * SECOND;
    member.tick(aDayLater, WALL0);
    assertTrue(
        member.lookup(SERVICE, aDayLater).orElseThrow().contains(peer), "kept without a heartbeat");

    List<Effect> removed = member.memberRemoved(peer.address(), peer.uid());
    assertTrue(
        removed.contains(new Effect.PeerRemoved(peer, "removed from the cluster")),
        removed::toString);
    assertFalse(member.lookup(SERVICE, aDayLater).orElseThrow().contains(peer));
  }

  @Test
  void aWatchedAnnouncementTheClusterNeverConfirmedStaysNoLongerThanTheWatchedStay() {
    // Unsigned, anybody with database access can send one; the cluster is what vouches for a
    // member, not the message.
    DiscoveryProtocol member = protocol(node(8558), s -> s);
    long now = makeReady(member, T0);
    member.joined();
    Announcement forged = node(8666);
    member.received(new MessageCodec().encode(Message.Announce.watched(forged)), now, WALL0);
    long stay = member.settings().timing().watchedPeerTtlNanos();

    member.tick(now + stay, WALL0);
    assertTrue(member.lookup(SERVICE, now + stay).orElseThrow().contains(forged));
    List<Effect> later = member.tick(now + stay + SECOND, WALL0);
    assertTrue(
        later.stream().anyMatch(e -> e instanceof Effect.PeerRemoved r && r.peer().equals(forged)),
        later::toString);
  }

  @Test
  void
      aWaitingNodeAsksAgainForItsWatchedPeersAndAnEmptyRosterFromAResponderWithTheSameViewKeepsThem() {
    DiscoveryProtocol responder = protocol(node(8501), s -> s);
    long now = makeReady(responder, T0);
    responder.joined();
    responder.tick(now, WALL0);
    MessageCodec codec = new MessageCodec();
    DiscoveryProtocol waiting = protocol(node(8700), s -> s);
    List<Effect.Send> joining = sends(waiting.connected(now, WALL0));
    List<Effect.Send> roster = new ArrayList<>();
    for (Effect.Send send : joining) {
      waiting.received(send.payload(), now + MS, WALL0);
      roster.addAll(sends(responder.received(send.payload(), now + MS, WALL0)));
    }
    for (Effect.Send send : roster) {
      waiting.received(send.payload(), now + 2 * MS, WALL0);
    }
    assertTrue(waiting.isReady());
    assertTrue(waiting.lookup(SERVICE, now + 2 * MS).orElseThrow().contains(responder.self()));

    // Half a watched stay later it asks again, with the digest of what it knows.
    long half = now + 2 * MS + waiting.settings().timing().watchedPeerTtlNanos() / 2;
    List<Effect.Send> again = sends(waiting.tick(half, WALL0 + 30_000));
    Message.Probe reprobe =
        again.stream()
            .map(Effect.Send::message)
            .filter(Message.Probe.class::isInstance)
            .map(Message.Probe.class::cast)
            .findFirst()
            .orElseThrow(() -> new AssertionError(again));
    assertEquals(
        ViewDigest.of(List.of(responder.self().incarnation(), waiting.self().incarnation())),
        reprobe.view());
    List<Effect.Send> same = List.of();
    for (Effect.Send send : again) {
      waiting.received(send.payload(), half + MS, WALL0 + 30_000);
      List<Effect.Send> answer =
          sends(responder.received(send.payload(), half + MS, WALL0 + 30_000));
      same = answer.isEmpty() ? same : answer;
    }
    assertEquals(1, same.size(), "one empty roster: " + same);
    assertEquals(List.of(), ((Message.Roster) same.get(0).message()).entries());
    waiting.received(same.get(0).payload(), half + 2 * MS, WALL0 + 30_000);

    // Kept a whole watched stay from the answer, beyond the first stay.
    long beyond = now + waiting.settings().timing().watchedPeerTtlNanos() + 10 * SECOND;
    waiting.tick(beyond, WALL0 + 70_000);
    assertTrue(
        waiting.lookup(SERVICE, beyond).orElseThrow().contains(responder.self()),
        () -> waiting.lookup(SERVICE, beyond).toString());
  }

  @Test
  void aWatchedPeerNobodyVouchesForAgainLeavesAWaitingNodeWithinTheWatchedStay() {
    DiscoveryProtocol waiting = protocol(node(8700), s -> s);
    long now = makeReady(waiting, T0);
    Announcement removedMeanwhile = node(8600);
    waiting.received(
        new MessageCodec().encode(Message.Announce.watched(removedMeanwhile)), now, WALL0);
    long stay = waiting.settings().timing().watchedPeerTtlNanos();

    // Its re-probe and the probe of everybody that follows go unanswered (the peer is gone, nobody
    // holds it).
    int probes = 0;
    for (long t = now + SECOND; t <= now + stay + SECOND; t += 100 * MS) {
      for (Effect.Send send : sends(waiting.tick(t, WALL0))) {
        probes += send.message() instanceof Message.Probe ? 1 : 0;
        waiting.received(send.payload(), t + MS, WALL0);
      }
    }

    assertTrue(probes >= 2, "a re-probe with the view digest, then everybody: " + probes);
    assertFalse(
        waiting.lookup(SERVICE, now + stay + SECOND).orElseThrow().contains(removedMeanwhile));
  }

  @Test
  void
      aMemberJustConnectedToldOfAMemberItHoldsNoContactPointAsksAgainAndVouchesForNobodyMeanwhile() {
    DiscoveryProtocol member = protocol(node(8501), s -> s);
    long now = makeReady(member, T0);
    member.joined();
    member.tick(now, WALL0);
    Announcement missed = node(8600);

    member.memberUp(missed.address(), missed.uid());

    // Its announcement is usually on its way: the member gives it two heartbeat intervals, then
    // asks, as it connected too recently to be sure it heard everything.
    assertEquals(List.of(), sends(member.tick(now + MS, WALL0)));
    List<Effect.Send> asked = sends(member.tick(now + MS + 10 * SECOND, WALL0));
    assertEquals(
        1,
        asked.stream().filter(send -> send.message() instanceof Message.Probe).count(),
        asked::toString);
    // Catching up, it sends no roster: it may have missed more while it was away.
    String prober = UUID.randomUUID().toString();
    long later = now + 11 * SECOND;
    assertEquals(
        List.of(),
        sends(
            member.received(
                new MessageCodec().encode(new Message.Probe(SERVICE, prober)), later, WALL0)),
        "no roster while it knows it lacks a member");

    // A roster that holds the missed member ends the catch-up.
    member.received(
        new MessageCodec()
            .encode(
                new Message.Roster(
                    SERVICE,
                    UUID.randomUUID().toString(),
                    member.self().incarnation(),
                    0,
                    1,
                    List.of(new Message.Roster.Entry(missed, Message.Roster.Entry.WATCHED)))),
        later,
        WALL0);
    assertTrue(member.lookup(SERVICE, later).orElseThrow().contains(missed));
    assertEquals(List.of(), sends(member.tick(later + 60 * SECOND, WALL0)), "no more asking");
  }

  @Test
  void
      aMemberListeningAllAlongAsksEverybodyOnceForAMemberNobodyHoldsAndAnswersNewcomersMeanwhile() {
    DiscoveryProtocol member = protocol(node(8501), s -> s);
    long now = makeReady(member, T0);
    member.joined();
    member.tick(now, WALL0);
    // A minute on the channel: it heard every announcement made meanwhile.
    now += 60 * SECOND;
    member.tick(now, WALL0);

    // A member of another service, channel or data centre of the same cluster.
    Announcement elsewhere = node(8600);
    member.memberUp(elsewhere.address(), elsewhere.uid());
    member.tick(now + MS, WALL0);
    assertEquals(
        1,
        sends(
                member.received(
                    new MessageCodec()
                        .encode(new Message.Probe(SERVICE, UUID.randomUUID().toString())),
                    now + 2 * MS,
                    WALL0))
            .size(),
        "a newcomer is answered meanwhile");

    List<Message> sent = new ArrayList<>();
    for (long t = now + 3 * MS; t < now + 10 * 60 * SECOND; t += 100 * MS) {
      sends(member.tick(t, WALL0)).forEach(send -> sent.add(send.message()));
    }
    assertEquals(
        1,
        sent.stream().filter(m -> m instanceof Message.Probe probe && probe.all()).count(),
        sent::toString);
    assertTrue(
        sent.stream().noneMatch(m -> m instanceof Message.Probe probe && !probe.all()),
        "asked the responders, who hold what it holds: " + sent);
  }

  @Test
  void aMemberCatchingUpThatHearsAnotherAskEverybodyAsksNothingItself() {
    DiscoveryProtocol member = protocol(node(8501), s -> s);
    long now = makeReady(member, T0);
    member.joined();
    now += 60 * SECOND;
    member.tick(now, WALL0);
    Announcement elsewhere = node(8600);
    member.memberUp(elsewhere.address(), elsewhere.uid());
    member.tick(now + MS, WALL0);

    Announcement other = node(8400);
    member.received(
        new MessageCodec().encode(new Message.Probe(SERVICE, other.incarnation(), true)),
        now + SECOND,
        WALL0);

    for (long t = now + SECOND + MS; t < now + 10 * 60 * SECOND; t += 100 * MS) {
      assertTrue(
          sends(member.tick(t, WALL0)).stream()
              .noneMatch(send -> send.message() instanceof Message.Probe),
          "asked although another asked everybody");
    }
  }

  @Test
  void aMemberBackOnlyLatelyAsksTheRespondersThreeTimesThenEverybodyOnce() {
    DiscoveryProtocol member = protocol(node(8501), s -> s);
    long now = makeReady(member, T0);
    member.joined();
    member.tick(now, WALL0);
    Announcement missed = node(8600);
    member.memberUp(missed.address(), missed.uid());
    member.tick(now + MS, WALL0);

    List<Message> sent = new ArrayList<>();
    for (long t = now + 2 * MS; t < now + 5 * 60 * SECOND; t += 100 * MS) {
      for (Effect.Send send : sends(member.tick(t, WALL0))) {
        sent.add(send.message());
        if (send.message() instanceof Message.Probe probe && !probe.all()) {
          // A responder answers with its view, which lacks the member too.
          member.received(
              new MessageCodec()
                  .encode(
                      new Message.Roster(
                          SERVICE,
                          UUID.randomUUID().toString(),
                          member.self().incarnation(),
                          0,
                          1,
                          List.of())),
              t + MS,
              WALL0);
        }
      }
    }

    assertEquals(
        CatchUp.PROBES - 1,
        sent.stream().filter(m -> m instanceof Message.Probe probe && !probe.all()).count(),
        sent::toString);
    assertEquals(
        1,
        sent.stream().filter(m -> m instanceof Message.Probe probe && probe.all()).count(),
        sent::toString);
  }
}
