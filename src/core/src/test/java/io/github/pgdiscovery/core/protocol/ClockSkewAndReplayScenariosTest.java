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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Scenarios of signed messages, through the front: a validly signed but stale message is news of
 * clock skew, which keeps a node not yet answering from answering; a copy played back is no news;
 * what the replay guard guarantees and what it does not. See {@link Gate}, {@link ClockSkew} and
 * {@link ReplayGuard}.
 */
final class ClockSkewAndReplayScenariosTest {

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
}
