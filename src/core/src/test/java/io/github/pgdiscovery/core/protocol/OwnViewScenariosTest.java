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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Scenarios of a node's own view, through the front: it probes on connect, waits for one
 * responder's whole roster, asks again of more responders, waiting longer each time, and at last
 * asks everybody; a member reconnecting is ready once its own announcement comes back. See {@link
 * OwnProbe} and {@link Readiness}.
 */
final class OwnViewScenariosTest {

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
}
