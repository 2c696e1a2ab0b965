package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.makeReady;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.protocol;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.sends;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Scenarios of a node's own heartbeats, through the front: the joined interval once it joins,
 * silence once joined (the default), and a goodbye when it stops announcing. See {@link
 * Announcing}.
 */
final class HeartbeatsScenariosTest {

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
}
