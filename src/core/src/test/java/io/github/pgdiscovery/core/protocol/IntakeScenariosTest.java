package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.makeReady;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.notices;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.protocol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Scenarios of what enters a node's view, through the front: bounded memory (services not kept
 * here, forged intervals, a full table), two live nodes on one contact point, and nodes of the
 * other toolkit. See {@link ViewIntake} and {@link OwnEndpointClash}.
 */
final class IntakeScenariosTest {

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
