package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Effect;
import io.github.pgdiscovery.core.protocol.Effects;
import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The connection thread's rules on plain data, as the engine and the simulator both run them: each
 * step returns the sends, in order, and carries out the rest; the connection is checked once
 * nothing was sent on it for the interval, whatever was heard.
 */
final class ConnectionLoopTest {

  private static final long T0 = 7_000_000_000L;
  private static final long INTERVAL = Duration.ofSeconds(30).toNanos();

  private final DiscoverySettings settings =
      DiscoverySettings.builder("jdbc:postgresql://db/app")
          .connectionCheckInterval(Duration.ofSeconds(30))
          .build();
  private final DiscoveryProtocol protocol =
      new DiscoveryProtocol(
          settings,
          new Announcement("orders", "10.0.0.5", 8558, "akka://orders@10.0.0.5:25520", 5, "me"),
          new SplittableRandom(1));
  private final List<Boolean> readiness = new ArrayList<>();
  private final ConnectionLoop loop =
      new ConnectionLoop(
          protocol,
          new Effects.Sink() {
            @Override
            public void readinessChanged(boolean ready) {
              readiness.add(ready);
            }

            @Override
            public void peerAdded(Announcement peer) {}

            @Override
            public void peerRemoved(Announcement peer, String why) {}

            @Override
            public void notice(Effect.Notice notice) {}
          },
          settings,
          T0);

  @Test
  void aStepReturnsItsSendsInOrderAndCarriesOutTheRest() {
    List<Effect.Send> sends = loop.connected(T0, 0);

    assertEquals(2, sends.size(), sends::toString);
    assertTrue(sends.get(0).message() instanceof Message.Announce, sends::toString);
    assertTrue(sends.get(1).message() instanceof Message.Probe, sends::toString);
    // Its own probe and announcement come back; with nobody else it asks again, then everybody,
    // and is ready once they had time to answer: the readiness change reaches the sink.
    long now = T0;
    for (int round = 0; round < 10 && readiness.isEmpty(); round++) {
      now += Duration.ofMillis(1).toNanos();
      List<Effect.Send> next = loop.read(sends.stream().map(Effect.Send::payload).toList(), now, 0);
      assertEquals(List.of(), next, "nobody answers its own messages");
      now = Math.max(now, loop.nextDeadline(now));
      sends = loop.tick(now, 0);
    }
    assertEquals(List.of(true), readiness);
  }

  @Test
  void theConnectionIsCheckedOnceNothingWasSentForTheIntervalWhatWasHeardDoesNotCount() {
    List<Effect.Send> sends = loop.connected(T0, 0);
    loop.sent(T0);
    loop.read(sends.stream().map(Effect.Send::payload).toList(), T0 + INTERVAL - 1, 0);

    assertFalse(loop.checkDue(T0 + INTERVAL - 1));
    assertTrue(loop.checkDue(T0 + INTERVAL), "heard notifications do not keep a session busy");
    loop.sent(T0 + INTERVAL);
    assertFalse(loop.checkDue(T0 + 2 * INTERVAL - 1));
  }
}
