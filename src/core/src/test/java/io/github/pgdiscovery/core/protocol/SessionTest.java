package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import org.junit.jupiter.api.Test;

/**
 * This node's session on its own: what it may have missed follows from how long it has listened
 * (defaults: heartbeats every 5 s with 10% jitter, expiry 15 s, reply window 300 ms).
 */
final class SessionTest {

  private final DiscoverySettings.Timing timing = settings(s -> s).timing();

  private static MessageCodec.Envelope stampedAt(long wallMillis) {
    return new MessageCodec.Envelope(new Message.Probe("orders", "prober", true), 1, wallMillis);
  }

  @Test
  void aSignedMessageStampedBeforeTheSessionBeganWasStampedBefore() {
    Session session = new Session(timing, true);
    session.connected(T0, WALL0);

    assertTrue(session.stampedBefore(stampedAt(WALL0 - 1)));
    assertFalse(session.stampedBefore(stampedAt(WALL0)));
  }

  @Test
  void anUnsignedMessageCarriesNoTimeAndIsNeverStampedBefore() {
    Session session = new Session(timing, false);
    session.connected(T0, WALL0);

    assertFalse(session.stampedBefore(stampedAt(WALL0 - 86_400_000L)));
  }

  @Test
  void aNodeMayHaveMissedAnAnnouncementUntilItListenedAnExpiryAHeartbeatAndAReplyWindow() {
    Session session = new Session(timing, false);
    assertTrue(session.mayHaveMissedAnnouncements(T0), "not connected");
    session.connected(T0, WALL0);
    long enough = 15 * SECOND + 5500 * MS + 300 * MS;

    assertTrue(session.mayHaveMissedAnnouncements(T0 + enough - 1));
    assertFalse(session.mayHaveMissedAnnouncements(T0 + enough));
    session.disconnected();
    assertTrue(session.mayHaveMissedAnnouncements(T0 + enough), "not connected");
  }

  @Test
  void aNodeNotYetJoinedMayBeUnheardUntilItsNextHeartbeatCouldHaveArrived() {
    Session session = new Session(timing, false);
    session.connected(T0, WALL0);
    long heartbeat = 5500 * MS + 300 * MS;

    assertTrue(session.youngerThanAHeartbeat(T0 + heartbeat - 1));
    assertFalse(session.youngerThanAHeartbeat(T0 + heartbeat));
  }

  @Test
  void aNewSessionCountsFromItsOwnStart() {
    Session session = new Session(timing, true);
    session.connected(T0, WALL0);
    session.disconnected();
    assertFalse(session.connected());

    session.connected(T0 + 60 * SECOND, WALL0 + 60_000);

    assertTrue(session.connected());
    assertEquals(T0 + 60 * SECOND, session.since());
    assertTrue(session.youngerThanAHeartbeat(T0 + 61 * SECOND));
    assertTrue(session.stampedBefore(stampedAt(WALL0 + 59_999)));
  }
}
