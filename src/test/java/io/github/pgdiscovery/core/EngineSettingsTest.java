package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.MessageCodec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

final class EngineSettingsTest {

  private static final EngineSettings DEFAULTS =
      EngineSettings.defaults("jdbc:postgresql://db/app", null, null, "akka_discovery");

  @Test
  void aPeerThatStatesNoIntervalOrTheNormalOneOrAShorterOneGetsExpireAfter() {
    long expireAfter = DEFAULTS.expireAfter().toNanos();

    assertEquals(expireAfter, DEFAULTS.expireAfterNanos(0));
    assertEquals(expireAfter, DEFAULTS.expireAfterNanos(5_000));
    assertEquals(expireAfter, DEFAULTS.expireAfterNanos(1_000));
  }

  @Test
  void aPeerThatStatesALongerIntervalMayMissAsManyHeartbeatsAsANormalOne() {
    // Defaults: 5 s heartbeat, 15 s expiry, so three heartbeats; at 30 s that is 90 s.
    assertEquals(Duration.ofSeconds(90).toNanos(), DEFAULTS.expireAfterNanos(30_000));
    assertEquals(Duration.ofHours(3).toNanos(), DEFAULTS.expireAfterNanos(MessageCodec.MAX_INTERVAL_MILLIS));
  }

  @Test
  void changingTheHeartbeatKeepsTheJoinedHeartbeatNoShorterThanIt() {
    EngineSettings raised = DEFAULTS.withTimings(Duration.ofMinutes(1), Duration.ofMinutes(3));
    EngineSettings lowered = DEFAULTS.withTimings(Duration.ofMillis(200), Duration.ofMillis(600));

    assertEquals(Duration.ofMinutes(1), raised.joinedHeartbeatInterval());
    assertEquals(DEFAULTS.joinedHeartbeatInterval(), lowered.joinedHeartbeatInterval());
  }

  @Test
  void joinedHeartbeatShorterThanTheHeartbeatOrLongerThanAnHourIsRefused() {
    IllegalArgumentException shorter = assertThrows(IllegalArgumentException.class,
        () -> DEFAULTS.withJoinedHeartbeat(Duration.ofSeconds(4)));
    IllegalArgumentException longer = assertThrows(IllegalArgumentException.class,
        () -> DEFAULTS.withJoinedHeartbeat(Duration.ofMinutes(61)));

    assertTrue(shorter.getMessage().contains("joinedHeartbeatInterval"), shorter.getMessage());
    assertTrue(longer.getMessage().contains("joinedHeartbeatInterval"), longer.getMessage());
  }
}
