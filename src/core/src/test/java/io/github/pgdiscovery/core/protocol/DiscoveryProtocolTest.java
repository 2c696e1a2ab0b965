package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECRET;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.encode;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.makeReady;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.notices;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.protocol;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.sends;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The protocol's rules on plain data: inputs in, effects out, no database, no threads, no clock.
 * Times are made up and passed in; nothing waits.
 */
final class DiscoveryProtocolTest {

  // ---------------------------------------------------------------------------------------------------------------
  // Readiness

  @Test
  void connectAnnouncesThenProbesOnTheMainChannel() {
    Announcement self = node(8558);
    DiscoveryProtocol protocol = protocol(self, s -> s);

    List<Effect.Send> sent = sends(protocol.connected(T0, WALL0));

    assertEquals(2, sent.size());
    assertTrue(sent.get(0).message() instanceof Message.Announce);
    assertTrue(sent.get(1).message() instanceof Message.Probe);
    assertTrue(sent.stream().allMatch(s -> s.channel().equals("disc")));
    assertEquals(List.of("disc", ReplyChannel.of("disc", self.incarnation())), protocol.channels());
  }

  @Test
  void aLoneNodeAsksAgainThenAsksEverybodyWhenNoRosterComesAndAnswersOneWaitAfterThat() {
    DiscoveryProtocol protocol =
        protocol(node(8558), s -> s.probeReplyWindow(Duration.ofMillis(300)));
    List<Effect> out = protocol.connected(T0, WALL0);
    assertEquals(Optional.empty(), protocol.lookup(SERVICE, T0 + SECOND));
    for (Effect.Send send : sends(out)) {
      protocol.received(send.payload(), T0 + 10 * MS, WALL0);
    }
    // The probe took 10 ms to come back: the node waits the window and twice that after its echo.
    assertEquals(List.of(), sends(protocol.tick(T0 + 329 * MS, WALL0)));

    // It comes first in its own (empty) view, but a formed cluster's members are quiet too: it asks
    // once more, of
    // the next two responders as well, and waits twice as long.
    List<Effect.Send> again = sends(protocol.tick(T0 + 330 * MS, WALL0));
    assertEquals(
        List.of(
            new Message.Probe(
                SERVICE,
                protocol.self().incarnation(),
                false,
                ViewDigest.of(List.of(protocol.self().incarnation())),
                1)),
        again.stream().map(Effect.Send::message).toList());
    protocol.received(again.get(0).payload(), T0 + 340 * MS, WALL0);
    assertEquals(List.of(), sends(protocol.tick(T0 + 979 * MS, WALL0)));

    List<Effect.Send> fallback = sends(protocol.tick(T0 + 980 * MS, WALL0));
    assertEquals(
        List.of(
            new Message.Announce(protocol.self(), 5000),
            new Message.Probe(SERVICE, protocol.self().incarnation(), true)),
        fallback.stream().map(Effect.Send::message).toList(),
        "its announcement goes with it, for others to hear");
    for (Effect.Send send : fallback) {
      protocol.received(send.payload(), T0 + 990 * MS, WALL0);
    }
    protocol.tick(T0 + 1309 * MS, WALL0);
    assertFalse(protocol.isReady());
    List<Effect> ready = protocol.tick(T0 + 1310 * MS, WALL0);

    assertTrue(ready.contains(new Effect.ReadinessChanged(true)));
    assertEquals(1, protocol.lookup(SERVICE, T0 + 1310 * MS).orElseThrow().size());
  }

  @Test
  void aNodeFirstAmongTheNodesItHeardAsksEverybodyAfterItsFirstUnansweredProbe() {
    // A cold start: the others announced after it listened, and none of them answers lookups before
    // it does.
    DiscoveryProtocol first = protocol(node(8501), s -> s.probeReplyWindow(Duration.ofMillis(300)));
    for (Effect.Send send : sends(first.connected(T0, WALL0))) {
      first.received(send.payload(), T0 + 10 * MS, WALL0);
    }
    first.received(
        new MessageCodec().encode(new Message.Announce(node(8502), 5000)), T0 + 20 * MS, WALL0);

    List<Effect.Send> fallback = sends(first.tick(T0 + 330 * MS, WALL0));

    assertEquals(
        List.of(
            new Message.Announce(first.self(), 5000),
            new Message.Probe(SERVICE, first.self().incarnation(), true)),
        fallback.stream().map(Effect.Send::message).toList());
  }

  @Test
  void onASlowServerANewcomerWaitsForAnswersAsLongAgainAsItsProbeTookToComeBack() {
    DiscoveryProtocol protocol =
        protocol(
            node(8560),
            s ->
                s.probeReplyWindow(Duration.ofMillis(300))
                    .timings(Duration.ofSeconds(30), Duration.ofSeconds(90)));
    List<Effect.Send> joining = sends(protocol.connected(T0, WALL0));
    // Somebody before this node in its view, so it asks again for a roster rather than asking
    // everybody.
    protocol.received(new MessageCodec().encode(new Message.Announce(node(8558))), T0 + MS, WALL0);
    // The server is loaded: this node's own probe comes back after two seconds.
    for (Effect.Send send : joining) {
      protocol.received(send.payload(), T0 + 2 * SECOND, WALL0 + 2000);
    }

    long patience = 2 * SECOND + 300 * MS + 2 * 2 * SECOND;
    assertEquals(
        List.of(),
        sends(protocol.tick(T0 + patience - MS, WALL0 + 6299)),
        "asking again before the answers could be back would only load the server more");
    assertEquals(
        patience,
        protocol.nextDeadline(T0 + patience - MS) - T0,
        "the engine is woken for that deadline");
    List<Message> again =
        sends(protocol.tick(T0 + patience, WALL0 + 6300)).stream()
            .map(Effect.Send::message)
            .toList();
    assertEquals(1, again.size(), again::toString);
    assertTrue(again.get(0) instanceof Message.Probe probe && !probe.all(), again::toString);
  }

  @Test
  void aNewcomerAnswersAsSoonAsOneRespondersWholeRosterIsInWithoutWaitingForTheWindow() {
    DiscoveryProtocol responder = protocol(node(8501), s -> s);
    long now = makeReady(responder, T0);
    MessageCodec codec = new MessageCodec();
    for (int port = 8510; port < 8610; port++) {
      responder.received(codec.encode(new Message.Announce(node(port))), now, WALL0);
    }
    DiscoveryProtocol newcomer = protocol(node(8700), s -> s);
    List<Effect.Send> joining = sends(newcomer.connected(now, WALL0));
    for (Effect.Send send : joining) {
      newcomer.received(send.payload(), now + MS, WALL0);
    }

    List<Effect.Send> roster = List.of();
    for (Effect.Send send : joining) {
      List<Effect.Send> answer = sends(responder.received(send.payload(), now + MS, WALL0));
      roster = answer.isEmpty() ? roster : answer;
    }
    assertTrue(roster.size() >= 2, "101 entries take more than one part: " + roster.size());
    assertTrue(
        roster.stream()
            .allMatch(
                s -> s.channel().equals(ReplyChannel.of("disc", newcomer.self().incarnation()))));
    for (int i = 0; i < roster.size(); i++) {
      assertFalse(newcomer.isReady(), "not ready before the last part");
      newcomer.received(roster.get(i).payload(), now + 2 * MS, WALL0);
    }

    assertTrue(newcomer.isReady(), "ready at once, 2 ms after connecting");
    assertEquals(102, newcomer.lookup(SERVICE, now + 2 * MS).orElseThrow().size());
  }

  /**
   * PostgreSQL delivers in commit order: what the newcomer hears between its probe and a roster was
   * committed after the responder's view was taken. A member's announcement stating the joined
   * interval, heard first, is not cut short by the roster's older, shorter expiry; a restart's new
   * incarnation heard first is not replaced by the roster's predecessor.
   */
  @Test
  void aRosterNeverShortensNorReplacesWhatTheNewcomerHeardItselfOnThisConnection() {
    DiscoveryProtocol responder = protocol(node(8501), s -> s);
    long now = makeReady(responder, T0);
    MessageCodec codec = new MessageCodec();
    Announcement member = node(8510);
    Announcement restartedBefore = node(8511);
    Announcement restartedNow = node(8511, UUID.randomUUID().toString());
    responder.received(codec.encode(new Message.Announce(member)), now, WALL0);
    responder.received(codec.encode(new Message.Announce(restartedBefore)), now, WALL0);
    DiscoveryProtocol newcomer = protocol(node(8700), s -> s);
    List<Effect.Send> joining = sends(newcomer.connected(now, WALL0));
    for (Effect.Send send : joining) {
      newcomer.received(send.payload(), now + MS, WALL0);
    }
    List<Effect.Send> roster = new ArrayList<>();
    for (Effect.Send send : joining) {
      roster.addAll(sends(responder.received(send.payload(), now + MS, WALL0)));
    }
    assertEquals(1, roster.size(), "one roster part");

    newcomer.received(codec.encode(Message.Announce.watched(member)), now + 2 * MS, WALL0);
    newcomer.received(codec.encode(new Message.Announce(restartedNow)), now + 2 * MS, WALL0);
    newcomer.received(roster.get(0).payload(), now + 3 * MS, WALL0);
    assertTrue(newcomer.isReady());
    List<Announcement> atOnce = newcomer.lookup(SERVICE, now + 3 * MS).orElseThrow();
    assertTrue(
        atOnce.contains(restartedNow) && !atOnce.contains(restartedBefore),
        "the restarted node's new incarnation stays: " + atOnce);

    long later = now + newcomer.settings().timing().expireAfter().toNanos() + SECOND;
    newcomer.tick(later, WALL0);
    List<Announcement> view = newcomer.lookup(SERVICE, later).orElseThrow();
    assertTrue(view.contains(member), "the member's own word keeps it: " + view);
  }

  /** A loaded server delays rosters; asking again, or asking everybody, would load it more. */
  @Test
  void aNewcomerWhoseRosterIsArrivingDoesNotAskAgainAndOneWithoutAnswerWaitsLongerEachTime() {
    DiscoveryProtocol newcomer =
        protocol(node(8700), s -> s.probeReplyWindow(Duration.ofMillis(300)));
    // Somebody lower is known, so it is not the first in its own view and does not ask everybody at
    // once.
    newcomer.received(new MessageCodec().encode(new Message.Announce(node(8501))), T0, WALL0);
    List<Effect.Send> joining = sends(newcomer.connected(T0, WALL0));
    for (Effect.Send send : joining) {
      newcomer.received(send.payload(), T0 + MS, WALL0);
    }
    newcomer.received(
        new MessageCodec()
            .encode(
                new Message.Roster(
                    SERVICE,
                    UUID.randomUUID().toString(),
                    newcomer.self().incarnation(),
                    0,
                    2,
                    List.of(new Message.Roster.Entry(node(8502), 5000)))),
        T0 + 2 * MS,
        WALL0);
    for (long t = T0 + 100 * MS; t < T0 + MS + 16 * 300 * MS; t += 100 * MS) {
      assertEquals(
          List.of(),
          sends(newcomer.tick(t, WALL0)).stream()
              .filter(s -> s.message() instanceof Message.Probe)
              .toList(),
          "half a roster is in: no probe at +" + (t - T0) / MS + " ms");
    }

    DiscoveryProtocol unanswered =
        protocol(node(8701), s -> s.probeReplyWindow(Duration.ofMillis(300)));
    unanswered.received(new MessageCodec().encode(new Message.Announce(node(8501))), T0, WALL0);
    List<Long> probedAt = new ArrayList<>();
    List<Integer> attempts = new ArrayList<>();
    List<Effect.Send> out = sends(unanswered.connected(T0, WALL0));
    for (long t = T0; t < T0 + 10 * SECOND; t += 10 * MS) {
      for (Effect.Send send : out) {
        if (send.message() instanceof Message.Probe probe && !probe.all()) {
          probedAt.add(t);
          attempts.add(probe.attempt());
        }
        unanswered.received(send.payload(), t + MS, WALL0);
      }
      out = sends(unanswered.tick(t + 10 * MS, WALL0));
    }
    assertEquals(
        DiscoveryProtocol.PROBES_BEFORE_ASKING_EVERYBODY, probedAt.size(), probedAt::toString);
    assertEquals(
        List.of(0, 1, 2, 3), attempts, "each probe states how many went unanswered before it");
    assertTrue(
        probedAt.get(3) - probedAt.get(2) > probedAt.get(2) - probedAt.get(1)
            && probedAt.get(2) - probedAt.get(1) > probedAt.get(1) - probedAt.get(0),
        "waits longer each time: " + probedAt);
  }

  @Test
  void losingTheConnectionStopsLookupsUntilTheProbeIsHeardAgain() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);

    List<Effect> lost = protocol.disconnected(now);
    assertTrue(lost.contains(new Effect.ReadinessChanged(false)));
    protocol.connected(now + SECOND, WALL0);

    assertEquals(Optional.empty(), protocol.lookup(SERVICE, now + 2 * SECOND));
  }

  @Test
  void
      aMemberReconnectingAnnouncesAndProbesWithItsViewDigestAndIsReadyOnceItsAnnouncementComesBack() {
    DiscoveryProtocol member = protocol(node(8558), s -> s);
    long now = makeReady(member, T0);
    member.joined();
    member.disconnected(now);

    List<Effect.Send> onReconnect = sends(member.connected(now + SECOND, WALL0 + 1000));

    assertEquals(
        List.of(
            Message.Announce.watched(member.self()),
            new Message.Probe(
                SERVICE,
                member.self().incarnation(),
                false,
                ViewDigest.of(List.of(member.self().incarnation())))),
        onReconnect.stream().map(Effect.Send::message).toList());
    member.received(onReconnect.get(0).payload(), now + SECOND + MS, WALL0 + 1000);
    member.tick(now + 2 * SECOND, WALL0 + 2000);
    assertTrue(member.isReady(), () -> member.notReadyReason(now + 2 * SECOND));
  }

  @Test
  void aReconnectedMemberSendsNoRosterUntilANodeWaitingOutsideHadTimeToHeartbeatAgain() {
    DiscoveryProtocol member =
        protocol(
            node(8558),
            s ->
                s.heartbeatInterval(Duration.ofSeconds(5))
                    .probeReplyWindow(Duration.ofMillis(300)));
    long now = makeReady(member, T0);
    member.joined();
    member.disconnected(now);
    long back = now + SECOND;
    List<Effect.Send> onReconnect = sends(member.connected(back, WALL0 + 1000));
    member.received(onReconnect.get(0).payload(), back + MS, WALL0 + 1000);
    member.tick(back + SECOND, WALL0 + 2000);
    assertTrue(member.isReady(), () -> member.notReadyReason(back + SECOND));
    MessageCodec codec = new MessageCodec();

    // A waiting node announces at most 5.5 s apart (5 s and 10% jitter), and its heartbeat takes a
    // moment to
    // arrive: until then this member may lack one that announced while it was away.
    long beforeTheLatestHeartbeat = back + 5_700 * MS;
    assertEquals(
        List.of(),
        sends(
            member.received(
                codec.encode(new Message.Probe(SERVICE, "p1")), beforeTheLatestHeartbeat, WALL0)));
    List<Effect.Send> roster =
        sends(
            member.received(
                codec.encode(new Message.Probe(SERVICE, "p2")), back + 5_900 * MS, WALL0));
    assertEquals(1, roster.size(), roster::toString);
  }

  @Test
  void aNodeThatHasNotJoinedStillProbesOnReconnect() {
    DiscoveryProtocol newcomer = protocol(node(8558), s -> s);
    long now = makeReady(newcomer, T0);
    newcomer.disconnected(now);

    List<Effect.Send> onReconnect = sends(newcomer.connected(now + SECOND, WALL0 + 1000));

    assertTrue(
        onReconnect.stream().anyMatch(send -> send.message() instanceof Message.Probe),
        onReconnect::toString);
  }

  @Test
  void aLookupOfAServiceNotKeptSoFarProbesItAndWaitsForThatProbe() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);

    assertEquals(Optional.empty(), protocol.lookup("billing", now));
    List<Effect.Send> probes = sends(protocol.tick(now, WALL0));

    assertEquals(1, probes.size());
    assertEquals(
        new Message.Probe(
            "billing", protocol.self().incarnation(), false, ViewDigest.of(List.of())),
        probes.get(0).message());
    protocol.received(probes.get(0).payload(), now + MS, WALL0);
    protocol.tick(now + SECOND, WALL0);
    assertEquals(Optional.of(List.of()), protocol.lookup("billing", now + SECOND));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Finding 1: removal of an old incarnation must not retire its successor on the same address

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

  // ---------------------------------------------------------------------------------------------------------------
  // Finding 2: bounded memory

  @Test
  void announcementsOfServicesThisNodeNeitherAnnouncesNorLooksUpAreCountedAndNotKept() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);
    MessageCodec stranger = new MessageCodec();

    for (int i = 0; i < 100; i++) {
      Announcement invented =
          new Announcement("invented-" + i, "10.1.0.1", 9000, "akka://x@10.1.0.1:1", 0, "i" + i);
      List<Effect> out =
          protocol.received(stranger.encode(new Message.Announce(invented)), now, WALL0);
      assertEquals(
          List.of(),
          notices(out, Level.WARN),
          "another cluster's traffic is normal, not warned about");
    }

    assertEquals(100L, protocol.snapshot(now).rejected().get(Reason.OTHER_SERVICE));
    assertEquals(List.of(), protocol.snapshot(now).peers());
  }

  @Test
  void aForgedIntervalOfAnHourBuysNoLongerStayThanThisNodesJoinedIntervalGives() {
    DiscoveryProtocol protocol =
        protocol(node(8558), s -> s.joinedHeartbeatInterval(Duration.ofSeconds(30)));
    long now = makeReady(protocol, T0);
    Announcement peer = node(8600);
    protocol.received(new MessageCodec().encode(new Message.Announce(peer, 3_600_000)), now, WALL0);

    // Defaults: 15 s expiry at 5 s, so 90 s at the joined 30 s; an honoured hour would have been
    // three hours.
    protocol.tick(now + 90 * SECOND, WALL0);
    assertTrue(protocol.lookup(SERVICE, now + 90 * SECOND).orElseThrow().contains(peer));
    List<Effect> later = protocol.tick(now + 91 * SECOND, WALL0);

    assertTrue(
        later.stream().anyMatch(e -> e instanceof Effect.PeerRemoved r && r.peer().equals(peer)),
        later::toString);
  }

  @Test
  void aFullServiceRefusesNewcomersAndWarnsNamingTheKey() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s.maxPeersPerService(2));
    long now = makeReady(protocol, T0);
    MessageCodec codec = new MessageCodec();
    protocol.received(codec.encode(new Message.Announce(node(8601))), now, WALL0);
    List<Effect> out =
        protocol.received(codec.encode(new Message.Announce(node(8602))), now, WALL0);
    out = protocol.received(codec.encode(new Message.Announce(node(8603))), now, WALL0);

    assertEquals(1L, protocol.snapshot(now).rejected().get(Reason.TABLE_FULL));
    assertTrue(
        notices(out, Level.WARN)
            .get(0)
            .text()
            .contains("discovery.postgres.max-peers-per-service"));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Finding 4: two live nodes on one endpoint

  @Test
  void twoLiveNodesOnOneEndpointAreAnErrorNamingBothAddressesAndTheEntryDoesNotFlip() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);
    MessageCodec codec = new MessageCodec();
    Announcement first =
        new Announcement(SERVICE, "127.0.1.1", 8558, "akka://orders@host-a:25520", 1, "a");
    Announcement second =
        new Announcement(SERVICE, "127.0.1.1", 8558, "akka://orders@host-b:25520", 2, "b");
    protocol.received(codec.encode(new Message.Announce(first)), now, WALL0);
    protocol.received(codec.encode(new Message.Announce(second)), now + MS, WALL0);

    List<Effect> out =
        protocol.received(codec.encode(new Message.Announce(first)), now + 2 * MS, WALL0);

    List<Effect.Notice> errors = notices(out, Level.ERROR);
    assertEquals(1, errors.size());
    assertTrue(errors.get(0).text().contains("akka://orders@host-a:25520"), errors.get(0).text());
    assertTrue(errors.get(0).text().contains("akka://orders@host-b:25520"), errors.get(0).text());
    assertEquals(1L, protocol.snapshot(now).clashesDetected());
    assertEquals(1, protocol.snapshot(now + 2 * MS).clashes().size());
    // Heartbeats of both go on: no further error, and a goodbye from one leaves the other.
    assertEquals(
        List.of(),
        notices(
            protocol.received(codec.encode(new Message.Announce(second)), now + 3 * MS, WALL0),
            Level.ERROR));
    protocol.received(codec.encode(new Message.Goodbye(first)), now + 4 * MS, WALL0);
    assertTrue(protocol.lookup(SERVICE, now + 4 * MS).orElseThrow().contains(second));
  }

  @Test
  void anotherLiveNodeOnThisNodesOwnEndpointStopsLookupsUntilItGoesQuiet() {
    Announcement self = node(8558);
    DiscoveryProtocol protocol = protocol(self, s -> s);
    long now = makeReady(protocol, T0);
    Announcement impostor =
        new Announcement(
            SERVICE, self.host(), self.port(), "akka://orders@other-host:25520", 5, "impostor");

    List<Effect> out =
        protocol.received(new MessageCodec().encode(new Message.Announce(impostor)), now, WALL0);

    assertTrue(out.contains(new Effect.ReadinessChanged(false)));
    assertTrue(notices(out, Level.ERROR).get(0).text().contains("akka://orders@other-host:25520"));
    assertTrue(notices(out, Level.ERROR).get(0).text().contains(self.address()));
    assertEquals(Optional.empty(), protocol.lookup(SERVICE, now));
    assertEquals(1, protocol.snapshot(now).clashes().size());

    List<Effect> quiet = protocol.tick(now + 15 * SECOND + MS, WALL0);
    assertTrue(quiet.contains(new Effect.ReadinessChanged(true)), quiet::toString);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Finding 5: clock skew beyond the replay window

  @Test
  void validlySignedButStaleMessagesKeepANodeThatIsNotYetAnsweringFromAnsweringAndLogTheSkew() {
    Announcement self = node(8558);
    DiscoveryProtocol protocol = protocol(self, s -> s.sharedSecret(SECRET));
    MessageCodec skewedPeer = new MessageCodec(SECRET);
    List<Effect> connect = protocol.connected(T0, WALL0);
    for (Effect.Send send : sends(connect)) {
      protocol.received(send.payload(), T0 + MS, WALL0);
    }
    // The peer's clock is two minutes behind; its reply to our probe is dropped as stale.
    List<Effect> out =
        protocol.received(
            encode(skewedPeer, new Message.Announce(node(8600)), 1, WALL0 - 120_000),
            T0 + 2 * MS,
            WALL0);
    // No roster: the node asks everybody, and hears that probe back too.
    for (Effect.Send send : sends(protocol.tick(T0 + SECOND, WALL0 + 1000))) {
      protocol.received(send.payload(), T0 + SECOND + MS, WALL0 + 1000);
    }
    protocol.tick(T0 + 2 * SECOND, WALL0 + 2000);

    assertFalse(
        protocol.isReady(), "a node that only lacks peers because they were stale must not answer");
    assertTrue(protocol.notReadyReason(T0 + 2 * SECOND).contains("clock skew"));
    Effect.Notice error = notices(out, Level.ERROR).get(0);
    assertTrue(error.text().contains("120000 ms behind"), error.text());
    assertTrue(error.text().contains("discovery.postgres.replay-window"), error.text());
    assertEquals(-120_000L, protocol.snapshot(T0 + SECOND).clockSkewMillis());
    // Once nothing stale has been heard for expire-after, the node asks again rather than take the
    // silence of
    // quiet members for an empty channel; it answers only after that probe's own round.
    long aged = T0 + 2 * MS + 15 * SECOND + MS;
    List<Effect.Send> again = sends(protocol.tick(aged, WALL0 + 15_000));
    List<Message> probes =
        again.stream().map(Effect.Send::message).filter(Message.Probe.class::isInstance).toList();
    assertEquals(1, probes.size(), again::toString);
    assertFalse(((Message.Probe) probes.get(0)).all(), again::toString);
    assertFalse(protocol.isReady());
    long t = aged;
    for (int round = 0; round < 3 && !protocol.isReady(); round++) {
      t += MS;
      for (Effect.Send send : again) {
        protocol.received(send.payload(), t, WALL0 + 15_000);
      }
      // The probe took a millisecond to come back: the node waits the window and twice that.
      t += protocol.settings().timing().probeReplyWindow().toNanos() + 2 * MS;
      again = sends(protocol.tick(t, WALL0 + 15_000));
    }
    assertTrue(protocol.isReady());
  }

  @Test
  void aSkewedNewcomerDoesNotTakeAnAnsweringMemberOutOfService() {
    DiscoveryProtocol member = protocol(node(8558), s -> s.sharedSecret(SECRET));
    long now = makeReady(member, T0);
    member.memberUp(member.self().address(), member.self().uid());
    MessageCodec skewedNewcomer = new MessageCodec(SECRET);

    List<Effect> out =
        member.received(
            encode(skewedNewcomer, new Message.Probe(SERVICE, "newcomer"), 1, WALL0 + 300_000),
            now,
            WALL0);

    assertTrue(member.isReady());
    assertEquals(1, notices(out, Level.ERROR).size());
  }

  @Test
  void aReplayedStaleMessageIsCountedButIsNoNewsOfSkew() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s.sharedSecret(SECRET));
    long now = makeReady(protocol, T0);
    String recorded =
        encode(new MessageCodec(SECRET), new Message.Announce(node(8600)), 7, WALL0 - 120_000);
    protocol.received(recorded, now, WALL0);

    List<Effect> again = protocol.received(recorded, now + 61 * SECOND, WALL0 + 61_000);

    assertEquals(List.of(), notices(again, Level.ERROR));
    assertEquals(2L, protocol.snapshot(now).rejected().get(Reason.STALE));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Finding 6: what the replay guard guarantees, and what it does not

  @Test
  void
      aRecordedAnnouncementReplayedWithinTheWindowIsRefusedByReceiversThatHeardNewerOnesButTakenByANewcomer() {
    MessageCodec departed = new MessageCodec(SECRET);
    Announcement gone = node(8600);
    String recorded = encode(departed, new Message.Announce(gone), 3, WALL0);
    String later = encode(departed, new Message.Goodbye(gone), 4, WALL0 + 1000);

    DiscoveryProtocol member = protocol(node(8558), s -> s.sharedSecret(SECRET));
    long now = makeReady(member, T0);
    member.received(recorded, now, WALL0);
    member.received(later, now + SECOND, WALL0 + 1000);
    member.received(recorded, now + 2 * SECOND, WALL0 + 2000);
    assertEquals(1L, member.snapshot(now).rejected().get(Reason.REPLAYED));
    assertFalse(member.lookup(SERVICE, now + 2 * SECOND).orElseThrow().contains(gone));

    // The documented limit: a node that never heard this incarnation has no sequence to compare
    // with, so inside
    // replay-window it takes the recording, for at most expire-after. Outside the window nobody
    // does.
    DiscoveryProtocol newcomer = protocol(node(8559), s -> s.sharedSecret(SECRET));
    long then = makeReady(newcomer, T0);
    newcomer.received(recorded, then, WALL0 + 2000);
    assertTrue(newcomer.lookup(SERVICE, then).orElseThrow().contains(gone));
    DiscoveryProtocol laterNewcomer = protocol(node(8560), s -> s.sharedSecret(SECRET));
    long after = makeReady(laterNewcomer, T0);
    laterNewcomer.received(recorded, after, WALL0 + 31_000);
    assertEquals(1L, laterNewcomer.snapshot(after).rejected().get(Reason.STALE));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Finding 7: the switch to the joined interval

  @Test
  void aRecordedProbeOfEverybodyPlayedBackDaysLaterMakesNobodyAnnounceOnTheChannel() {
    DiscoveryProtocol member = protocol(node(8558), s -> s.sharedSecret(SECRET));
    long now = makeReady(member, T0);
    member.joined();
    member.tick(now, WALL0);
    Announcement prober = node(8600);
    String recorded =
        encode(
            new MessageCodec(SECRET),
            new Message.Probe(SERVICE, prober.incarnation(), true),
            3,
            WALL0 - 86_400_000L);

    List<Effect.Send> answers = new ArrayList<>();
    for (int copy = 0; copy < 5; copy++) {
      answers.addAll(
          sends(member.received(recorded, now + copy * 2 * SECOND, WALL0 + copy * 2_000L)));
    }

    assertTrue(
        answers.stream().noneMatch(send -> send.channel().equals("disc")),
        "announced on the channel for a replayed probe: " + answers);
    assertTrue(
        answers.stream()
            .allMatch(
                send ->
                    send.channel().equals(ReplyChannel.of("disc", prober.incarnation()))
                        && send.message() instanceof Message.Roster),
        answers::toString);
  }

  @Test
  void aRecordedStaleMessagePlayedBackAfterTheSkewAgedOutIsNoNewsOfSkew() {
    DiscoveryProtocol newcomer = protocol(node(8558), s -> s.sharedSecret(SECRET));
    newcomer.connected(T0, WALL0);
    String recorded =
        encode(new MessageCodec(SECRET), new Message.Announce(node(8600)), 7, WALL0 - 86_400_000L);
    newcomer.received(recorded, T0 + MS, WALL0);
    assertTrue(newcomer.snapshot(T0 + MS).clockSkewMillis() != 0, "the first copy is news");

    // The skew ages out after an expiry; then the same recording comes again.
    long later = T0 + 5 * 60 * SECOND;
    newcomer.tick(later, WALL0 + 300_000);
    List<Effect> again = newcomer.received(recorded, later + MS, WALL0 + 300_000);

    assertEquals(List.of(), notices(again, Level.ERROR));
    assertEquals(0, newcomer.snapshot(later + MS).clockSkewMillis());
  }

  @Test
  void aNewcomerWithAWholeRosterInHandIsReadyThoughAnotherResponderAnsweredWithASkewedClock() {
    MessageCodec codec = new MessageCodec(SECRET);
    DiscoveryProtocol newcomer = protocol(node(8700), s -> s.sharedSecret(SECRET));
    List<Effect> out = newcomer.connected(T0, WALL0);
    long t = T0 + MS;
    for (Effect.Send send : sends(out)) {
      newcomer.received(send.payload(), t, WALL0);
    }
    Announcement skewedResponder = node(8501);
    Announcement responder = node(8502);
    String to = newcomer.self().incarnation();
    // The first responder's clock jumped a minute ahead: its roster is stale here.
    newcomer.received(
        encode(
            codec,
            new Message.Roster(
                SERVICE,
                skewedResponder.incarnation(),
                to,
                0,
                1,
                List.of(
                    new Message.Roster.Entry(skewedResponder, Message.Roster.Entry.WATCHED),
                    new Message.Roster.Entry(responder, Message.Roster.Entry.WATCHED))),
            1,
            WALL0 + 60_000),
        t + MS,
        WALL0);
    newcomer.received(
        encode(
            codec,
            new Message.Roster(
                SERVICE,
                responder.incarnation(),
                to,
                0,
                1,
                List.of(
                    new Message.Roster.Entry(skewedResponder, Message.Roster.Entry.WATCHED),
                    new Message.Roster.Entry(responder, Message.Roster.Entry.WATCHED))),
            1,
            WALL0),
        t + 2 * MS,
        WALL0);
    newcomer.tick(t + 3 * MS, WALL0);

    assertTrue(newcomer.isReady(), () -> newcomer.notReadyReason(t + 3 * MS));
    assertEquals(3, newcomer.lookup(SERVICE, t + 3 * MS).orElseThrow().size());
  }

  @Test
  void theHeartbeatAfterJoiningStatesTheJoinedIntervalAndTheNextOneComesAtThatInterval() {
    DiscoveryProtocol protocol =
        protocol(node(8558), s -> s.joinedHeartbeatInterval(Duration.ofSeconds(30)));
    long now = makeReady(protocol, T0);
    protocol.joined();

    long heartbeatAt = now;
    List<Effect.Send> heartbeat = List.of();
    // The heartbeat already scheduled comes within 5 s ± 10%; it is the first to state the joined
    // interval.
    while (heartbeat.isEmpty() && heartbeatAt - now < 6 * SECOND) {
      heartbeatAt += 10 * MS;
      heartbeat = sends(protocol.tick(heartbeatAt, WALL0 + 5000));
    }

    assertEquals(new Message.Announce(protocol.self(), 30_000), heartbeat.get(0).message());
    // The next one not before the joined interval less its jitter: the stated interval and the
    // delay come from
    // one reading of the interval.
    Poll.assertNoHeartbeatBefore(protocol, heartbeatAt, heartbeatAt + 27 * SECOND);
    List<Effect.Send> next = List.of();
    long t = heartbeatAt + 27 * SECOND;
    while (next.isEmpty() && t - heartbeatAt <= 33 * SECOND) {
      t += 10 * MS;
      next = sends(protocol.tick(t, WALL0));
    }
    assertEquals(new Message.Announce(protocol.self(), 30_000), next.get(0).message());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Silence once joined (joined-heartbeat-interval = off, the default)

  @Test
  void aJoinedNodeAnnouncesOnceThatItsClusterWatchesItThenSendsNothing() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);
    protocol.joined();
    assertEquals(now, protocol.nextDeadline(now), "the announcement goes out at the next tick");
    assertEquals(
        Duration.ofSeconds(5),
        protocol.snapshot(now).heartbeatInterval(),
        "not quiet before it is sent");

    List<Effect.Send> told = sends(protocol.tick(now, WALL0));

    assertEquals(
        List.of(Message.Announce.watched(protocol.self())),
        told.stream().map(Effect.Send::message).toList());
    Poll.assertNoHeartbeatBefore(protocol, now, now + 2 * 3600 * SECOND);
    assertEquals(
        Duration.ZERO, protocol.snapshot(now).heartbeatInterval(), "the operator view says off");
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
  void onceMembersAreKnownANodeThatHasNotJoinedSendsNoRosterAndAMemberDoes() {
    MessageCodec codec = new MessageCodec();
    Announcement member = node(8600);
    String prober = UUID.randomUUID().toString();
    String probe =
        codec.encode(new Message.Probe(SERVICE, prober, false, ViewDigest.of(List.of(prober))));

    // Lowest by host and port, ready, but not in the cluster: it cannot tell when a member leaves.
    DiscoveryProtocol waiting = protocol(node(8501), s -> s);
    long now = makeReady(waiting, T0);
    waiting.received(codec.encode(Message.Announce.watched(member)), now, WALL0);
    assertEquals(List.of(), sends(waiting.received(probe, now + MS, WALL0)));

    DiscoveryProtocol joined = protocol(node(8502), s -> s);
    long then = makeReady(joined, T0);
    joined.joined();
    joined.memberUp(member.address(), member.uid());
    joined.received(codec.encode(Message.Announce.watched(member)), then, WALL0);
    List<Effect.Send> roster = sends(joined.received(probe, then + MS, WALL0));
    assertEquals(1, roster.size(), roster::toString);
    Message.Roster sent = (Message.Roster) roster.get(0).message();
    assertTrue(
        sent.entries().stream().anyMatch(e -> e.node().equals(member) && e.watched()),
        sent::toString);
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

  /** Ticks through a stretch of time and checks that no announcement goes out in it. */
  private static final class Poll {
    static void assertNoHeartbeatBefore(DiscoveryProtocol protocol, long from, long until) {
      for (long t = from + SECOND; t < until; t += SECOND) {
        assertEquals(
            List.of(),
            sends(protocol.tick(t, WALL0)),
            "a heartbeat at +" + (t - from) / SECOND + " s");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Finding 10: a probe repeated in a loop

  @Test
  void aProbeAskedAgainIsAnsweredByTheFirstTwoRespondersAndByTheTwoNextInRank() {
    MessageCodec codec = new MessageCodec();
    for (int rank = 0; rank < 6; rank++) {
      // A ready responder with `rank` nodes before it by host and port.
      DiscoveryProtocol responder = protocol(node(8501 + rank), s -> s);
      long now = makeReady(responder, T0);
      for (int lower = 0; lower < rank; lower++) {
        responder.received(
            codec.encode(new Message.Announce(node(8501 + lower), 5000)), now, WALL0);
      }
      for (int attempt = 0; attempt < 4; attempt++) {
        String prober = UUID.randomUUID().toString();
        List<Effect.Send> answer =
            sends(
                responder.received(
                    codec.encode(new Message.Probe(SERVICE, prober, false, null, attempt)),
                    now + MS,
                    WALL0));
        boolean expected =
            rank < DiscoveryProtocol.RESPONDERS
                || attempt > 0 && rank / DiscoveryProtocol.RESPONDERS == attempt;
        assertEquals(
            expected, !answer.isEmpty(), "rank " + rank + ", attempt " + attempt + ": " + answer);
        assertTrue(
            answer.stream().allMatch(a -> a.message() instanceof Message.Roster), answer::toString);
      }
    }
  }

  @Test
  void
      aProbeHeardBeforeThisNodeAnswersLookupsIsAnsweredAsSoonAsItDoesUnlessItCameBeforeItsProbeOfEverybody() {
    // The first node of a cold start: the others' probes arrive while it still waits for answers
    // itself.
    DiscoveryProtocol first = protocol(node(8501), s -> s.probeReplyWindow(Duration.ofMillis(300)));
    for (Effect.Send send : sends(first.connected(T0, WALL0))) {
      first.received(send.payload(), T0 + MS, WALL0);
    }
    MessageCodec codec = new MessageCodec();
    String early = UUID.randomUUID().toString();
    String late = UUID.randomUUID().toString();
    assertEquals(
        List.of(),
        sends(first.received(codec.encode(new Message.Probe(SERVICE, early)), T0 + 2 * MS, WALL0)),
        "not answering lookups yet: no roster");

    List<Effect.Send> answers = new ArrayList<>();
    for (long t = T0 + 10 * MS; t < T0 + 5 * SECOND && !first.isReady(); t += 10 * MS) {
      for (Effect.Send send : sends(first.tick(t, WALL0))) {
        answers.add(send);
        answers.addAll(sends(first.received(send.payload(), t + MS, WALL0)));
        if (send.message() instanceof Message.Probe probe && probe.all()) {
          // A node that connected after the probe of everybody committed: it hears neither it nor
          // its answers.
          answers.addAll(
              sends(
                  first.received(
                      codec.encode(new Message.Probe(SERVICE, late)), t + 2 * MS, WALL0)));
        }
      }
    }

    assertTrue(first.isReady(), () -> first.notReadyReason(T0 + 5 * SECOND));
    List<Effect.Send> toLate =
        answers.stream().filter(a -> a.channel().equals(ReplyChannel.of("disc", late))).toList();
    assertEquals(1, toLate.size(), answers::toString);
    assertTrue(
        toLate.get(0).message() instanceof Message.Roster roster && roster.to().equals(late),
        toLate::toString);
    assertTrue(
        answers.stream().noneMatch(a -> a.channel().equals(ReplyChannel.of("disc", early))),
        () ->
            "the early prober heard the probe of everybody and its answers: no roster for it; "
                + answers);

    // Asked again on the same connection (its wait ran out before that probe reached it): still
    // covered.
    long later = T0 + 6 * SECOND;
    assertEquals(
        List.of(),
        sends(
            first.received(
                codec.encode(new Message.Probe(SERVICE, early, false, null, 1)), later, WALL0)));
    // A first attempt again is a new connection, which may have missed it all: answered.
    List<Effect.Send> reconnected =
        sends(
            first.received(
                codec.encode(new Message.Probe(SERVICE, early)), later + 2 * SECOND, WALL0));
    assertEquals(1, reconnected.size(), reconnected::toString);
    assertEquals(ReplyChannel.of("disc", early), reconnected.get(0).channel());
  }

  @Test
  void
      aNodeThatHearsAnotherAskEverybodyIsReadyOnceTheAnswersHadTimeWithoutARosterOrAProbeOfItsOwn() {
    DiscoveryProtocol waiting =
        protocol(node(8502), s -> s.probeReplyWindow(Duration.ofMillis(300)));
    for (Effect.Send send : sends(waiting.connected(T0, WALL0))) {
      waiting.received(send.payload(), T0, WALL0);
    }
    MessageCodec codec = new MessageCodec();
    Announcement asker = node(8501);
    Announcement other = node(8503);
    long heard = T0 + 100 * MS;
    // The asker's announcement goes with its probe, in one commit; then every other node answers on
    // the channel.
    waiting.received(codec.encode(new Message.Announce(asker, 5000)), heard, WALL0);
    waiting.received(
        codec.encode(new Message.Probe(SERVICE, asker.incarnation(), true)), heard, WALL0);
    waiting.received(codec.encode(new Message.Announce(other, 5000)), heard + 2 * MS, WALL0);

    List<Effect.Send> sent = new ArrayList<>();
    long readyAt = -1;
    for (long t = heard + 10 * MS; t < heard + 2 * SECOND && readyAt < 0; t += 10 * MS) {
      sent.addAll(sends(waiting.tick(t, WALL0)));
      readyAt = waiting.isReady() ? t : -1;
    }

    assertTrue(
        readyAt >= heard + Duration.ofMillis(300).toNanos(),
        "not before the answers had time: " + readyAt);
    assertTrue(
        readyAt < heard + SECOND,
        "ready at the same time as the asker, without asking itself: " + sent);
    assertEquals(List.of(), sent, "no probe of its own, of everybody or again");
    assertEquals(3, waiting.lookup(SERVICE, readyAt).orElseThrow().size());
  }

  @Test
  void aProbeRepeatedInALoopIsAnsweredOncePerProberAndSecond() {
    DiscoveryProtocol member = protocol(node(8558), s -> s);
    long now = makeReady(member, T0);
    MessageCodec forger = new MessageCodec();
    String probe = forger.encode(new Message.Probe(SERVICE, "forged"));

    int replies = 0;
    for (int i = 0; i < 100; i++) {
      replies += sends(member.received(probe, now + i * MS, WALL0)).size();
    }
    int afterASecond = sends(member.received(probe, now + SECOND + MS, WALL0)).size();

    assertEquals(1, replies);
    assertEquals(1, afterASecond);
    assertEquals(99L, member.snapshot(now).repliesSuppressed());
  }

  @Test
  void aProbeIsAnsweredOnTheProbersReplyChannel() {
    DiscoveryProtocol member = protocol(node(8558), s -> s);
    long now = makeReady(member, T0);

    List<Effect.Send> reply =
        sends(
            member.received(
                new MessageCodec().encode(new Message.Probe(SERVICE, "p1")), now, WALL0));

    assertEquals(1, reply.size());
    assertEquals(ReplyChannel.of("disc", "p1"), reply.get(0).channel());
  }

  @Test
  void aMemberOfAClusterOfMoreThanFourThousandVouchesForEveryMemberInRostersItsPeersCanRead() {
    int n = 4200;
    DiscoveryProtocol member = protocol(node(8558), s -> s.maxPeersPerService(2 * n));
    long now = makeReady(member, T0);
    member.memberUp(member.self().address(), member.self().uid());
    MessageCodec codec = new MessageCodec();
    for (int i = 0; i < n; i++) {
      String host = "10.1." + (i / 250) + "." + (i % 250 + 1);
      Announcement other =
          new Announcement(
              SERVICE,
              host,
              8558,
              "akka://orders@" + host + ":25520",
              i + 1,
              UUID.randomUUID().toString());
      member.received(codec.encode(Message.Announce.watched(other)), now, WALL0);
      member.memberUp(other.address(), other.uid());
    }

    List<Effect.Send> roster =
        sends(member.received(codec.encode(new Message.Probe(SERVICE, "p1")), now + MS, WALL0));

    int entries = 0;
    for (Effect.Send part : roster) {
      // Decoded as the prober would: a part it cannot read would leave its view incomplete.
      Message.Roster decoded =
          assertDoesNotThrow(() -> (Message.Roster) codec.decode(part.payload()));
      assertTrue(
          decoded.entries().stream()
              .filter(e -> !e.node().equals(member.self()))
              .allMatch(Message.Roster.Entry::watched),
          "every member vouched for by its cluster");
      entries += decoded.entries().size();
    }
    assertEquals(n + 1, entries);
  }

  @Test
  void aRespondersOwnEntryIsCappedLikeTheOthersSoThatAJoinedHourlyHeartbeatStaysReadable() {
    // Accepted by the settings: three joined heartbeats of an hour are past the cap a roster entry
    // may state.
    DiscoveryProtocol member =
        protocol(
            node(8558),
            s ->
                s.joinedHeartbeatInterval(Duration.ofHours(1)).expireAfter(Duration.ofSeconds(20)));
    long now = makeReady(member, T0);
    member.joined();
    member.tick(now, WALL0);
    MessageCodec codec = new MessageCodec();

    List<Effect.Send> roster =
        sends(member.received(codec.encode(new Message.Probe(SERVICE, "p1")), now + MS, WALL0));

    assertEquals(1, roster.size(), roster::toString);
    Message.Roster decoded =
        assertDoesNotThrow(() -> (Message.Roster) codec.decode(roster.get(0).payload()));
    Message.Roster.Entry own = decoded.entries().get(decoded.entries().size() - 1);
    assertEquals(member.self(), own.node());
    assertEquals(MessageCodec.MAX_TTL_MILLIS, own.ttlMillis());
  }

  @Test
  void aProbeOfEverybodyIsAnsweredWithAnAnnouncementOnTheChannelForEveryWaitingNodeToHear() {
    DiscoveryProtocol member = protocol(node(8558), s -> s);
    long now = makeReady(member, T0);

    List<Effect.Send> reply =
        sends(
            member.received(
                new MessageCodec().encode(new Message.Probe(SERVICE, "p1", true)), now, WALL0));

    assertEquals(1, reply.size());
    assertEquals("disc", reply.get(0).channel());
    assertTrue(
        reply.get(0).message() instanceof Message.Announce announce
            && announce.node().equals(member.self()),
        reply::toString);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Goodbye

  @Test
  void stopAnnouncingSaysGoodbyeAtTheNextTickAndSendsNoMoreHeartbeats() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, T0);

    protocol.stopAnnouncing();
    List<Effect.Send> goodbye = sends(protocol.tick(now, WALL0));

    assertEquals(
        List.of(new Message.Goodbye(protocol.self())),
        goodbye.stream().map(Effect.Send::message).toList());
    Poll.assertNoHeartbeatBefore(protocol, now, now + 60 * SECOND);
    assertTrue(protocol.isReady(), "it keeps answering lookups");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Akka and Pekko nodes on one channel and service

  @Test
  void aNodeOfTheOtherToolkitOnTheSameServiceIsIgnoredCountedAndLoggedOnce() {
    DiscoveryProtocol akkaNode = protocol(node(8558), s -> s);
    long now = makeReady(akkaNode, T0);
    MessageCodec codec = new MessageCodec();
    Announcement pekkoNode =
        new Announcement(SERVICE, "10.0.0.77", 7626, "pekko://orders@10.0.0.77:25520", 9, "p");

    List<Effect> first =
        akkaNode.received(codec.encode(new Message.Announce(pekkoNode)), now, WALL0);
    List<Effect> second =
        akkaNode.received(codec.encode(new Message.Announce(pekkoNode)), now + SECOND, WALL0);

    assertFalse(akkaNode.lookup(SERVICE, now + SECOND).orElseThrow().contains(pekkoNode));
    assertEquals(2L, akkaNode.snapshot(now).rejected().get(Reason.OTHER_TOOLKIT));
    Effect.Notice error = notices(first, Level.ERROR).get(0);
    assertTrue(error.text().contains("pekko://orders@10.0.0.77:25520"), error.text());
    assertTrue(error.text().contains("discovery.postgres.channel"), error.text());
    assertEquals(List.of(), notices(second, Level.ERROR));
  }
}
