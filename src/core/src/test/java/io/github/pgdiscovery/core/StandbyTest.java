package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.LogCapture;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.ReplicatedPostgres;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node pointed at a real hot standby (streaming from a primary): it says in one ERROR that the
 * server is in recovery and what to point it at instead, is not ready, and tries again only every
 * reconnect-max-backoff. Before the check, the node reconnected several times a second with a WARN
 * about an "unavailable" database.
 */
@DatabaseTest
final class StandbyTest {

  private static final Logger log = LoggerFactory.getLogger(StandbyTest.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
  private static final Duration WATCHED = Duration.ofSeconds(8);

  private final TestDatabase db;
  private final Resources resources = new Resources();

  StandbyTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() throws Exception {
    resources.close();
  }

  @Test
  void aNodePointedAtAStandbyReportsRecoveryOnceWithAdviceIsNotReadyAndRetriesSlowly()
      throws Exception {
    LogCapture logs = resources.add(LogCapture.of(DiscoveryEngine.class));
    ReplicatedPostgres servers = resources.add(ReplicatedPostgres.start());
    Participants nodes =
        resources.add(new Participants(db, servers.standbyUrl(), db.newChannelName()));
    DiscoveryEngine node =
        nodes.start(9991, s -> s.reconnectBackoff(Duration.ofMillis(100), MAX_BACKOFF));

    Poll.until(
        Duration.ofSeconds(10),
        "an error about the standby",
        () -> !standbyErrors(logs).isEmpty(),
        node::status);
    String error = standbyErrors(logs).get(0).getFormattedMessage();
    assertTrue(error.contains("targetServerType=primary"), error);
    assertTrue(error.contains(nodes.channel()), error);

    long attemptsThen = node.status().connectionAttempts();
    TimeUnit.MILLISECONDS.sleep(WATCHED.toMillis());
    EngineStatus status = node.status();
    long attempts = status.connectionAttempts() - attemptsThen;
    log.info("Against a standby: {} connection attempts in {}", attempts, WATCHED);
    // Each retry waits at least 80% of reconnect-max-backoff (jitter).
    assertTrue(
        attempts <= 1 + WATCHED.toMillis() / (MAX_BACKOFF.toMillis() * 8 / 10),
        attempts + " attempts in " + WATCHED);
    assertEquals(ConnectionState.UNSUITABLE_SERVER, status.state(), status.toString());
    assertEquals(1, standbyErrors(logs).size(), "one error, not one per retry");
    assertEquals(0, logs.events(Level.WARN, "").size(), "no warning about an unavailable database");
    assertFalse(node.isReady());
    assertFalse(node.isReadyToServe());
  }

  private static List<ILoggingEvent> standbyErrors(LogCapture logs) {
    return logs.events(Level.ERROR, "").stream()
        .filter(e -> e.getFormattedMessage().contains("reached a server in recovery"))
        .toList();
  }
}
