package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.pgdiscovery.testing.ChannelTap;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL 14 and later end a session that has sent no query for idle_session_timeout, and a
 * session that only listens is idle however many notifications it receives: delivering them does
 * not count as activity. Managed servers set it (often per role or database). The engine's
 * connection check is a query at least every connection-check-interval, heard traffic or not, so a
 * timeout longer than that never ends a listener.
 */
@DatabaseTest
final class IdleSessionTimeoutTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  private final TestDatabase db;
  private final Participants participants;

  IdleSessionTimeoutTest(TestDatabase db) {
    this.db = db;
    String url =
        db.jdbcUrl()
            + (db.jdbcUrl().contains("?") ? "&" : "?")
            + "options=-c%20idle_session_timeout%3D"
            + TIMEOUT.toMillis();
    this.participants = new Participants(db, url, db.newChannelName());
  }

  @AfterEach
  void stop() {
    participants.close();
  }

  @Test
  void aListenerOnABusyChannelOutlivesTheServersIdleSessionTimeout() throws Exception {
    DiscoveryEngine engine =
        participants.start(
            20_001, settings -> settings.connectionCheckInterval(Duration.ofSeconds(1)));
    Poll.until(Duration.ofSeconds(10), "ready", engine::isReady, engine::status);
    OptionalInt pid = engine.backendPid();

    // Somebody else talks on the channel every 200 ms for three timeouts: the engine always has
    // something to hear.
    try (ChannelTap tap = new ChannelTap(db, participants.channel())) {
      long end = System.nanoTime() + 3 * TIMEOUT.toNanos();
      while (System.nanoTime() < end) {
        tap.send("{\"v\":1,\"type\":\"chatter\"}");
        Thread.sleep(200);
      }
    }

    assertEquals(
        0, engine.status().reconnects(), () -> "the server ended the session: " + engine.status());
    assertEquals(pid, engine.backendPid(), "the same session throughout");
  }
}
