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
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Scenarios of answering another node's probe, through the front: who answers (the first two by
 * rank, more for a probe asked again, only members once there are members), on which channel, with
 * what (the view in readable parts, or an empty roster), and how often. See {@link Responder}.
 */
final class AnsweringProbesScenariosTest {

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
}
