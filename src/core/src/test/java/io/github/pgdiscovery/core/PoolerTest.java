package io.github.pgdiscovery.core;

import static io.github.pgdiscovery.core.Participants.awaitPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.LogCapture;
import io.github.pgdiscovery.testing.PgBouncer;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nodes behind a real PgBouncer. In transaction mode, where notifications cannot reach a client
 * (the pooler lends its server session to others between transactions), every node says so in one
 * ERROR that names the pooler within connect-timeout, is not ready, fails its lookups and tries
 * again only every reconnect-max-backoff: with PgBouncer's defaults, where a lone node even hears
 * its own probe, and with a pool that hands out different server sessions. In session mode the
 * nodes find each other as directly.
 */
@DatabaseTest
final class PoolerTest {

  private static final Logger log = LoggerFactory.getLogger(PoolerTest.class);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

  /** How long the nodes are watched for retries after they reported the pooler. */
  private static final Duration WATCHED = Duration.ofSeconds(8);

  private final TestDatabase db;
  private final Resources resources = new Resources();
  private final List<Participants> groups = new ArrayList<>();

  PoolerTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (Participants group : groups) {
      group.close();
    }
    resources.close();
  }

  @Test
  void transactionModeWithPgBouncersDefaultsIsReportedByEveryNodeAndNotRetriedInALoop()
      throws Exception {
    PgBouncer pooler =
        resources.add(PgBouncer.builder(db).poolMode(PgBouncer.PoolMode.TRANSACTION).start());
    assertEveryNodeReportsTheTransactionPooler(pooler, 3);
  }

  @Test
  void transactionModeWithAPoolThatHandsOutOtherServerSessionsIsReportedToo() throws Exception {
    PgBouncer pooler =
        resources.add(
            PgBouncer.builder(db)
                .poolMode(PgBouncer.PoolMode.TRANSACTION)
                .serverRoundRobin(true)
                .setting("min_pool_size", "4")
                .start());
    assertEveryNodeReportsTheTransactionPooler(pooler, 3);
  }

  @Test
  void throughSessionModeNodesFindEachOtherAndNoErrorIsLogged() throws Exception {
    LogCapture logs = resources.add(LogCapture.of(DiscoveryEngine.class));
    PgBouncer pooler =
        resources.add(PgBouncer.builder(db).poolMode(PgBouncer.PoolMode.SESSION).start());
    Participants nodes = group(pooler);
    List<DiscoveryEngine> engines =
        List.of(
            nodes.start(9971, settings()),
            nodes.start(9972, settings()),
            nodes.start(9973, settings()));

    for (DiscoveryEngine engine : engines) {
      awaitPorts(engine, Set.of(9971, 9972, 9973));
      assertEquals(ConnectionState.CONNECTED, engine.status().state());
      int pooled = engine.backendPid().orElseThrow();
      assertTrue(
          pooler.servers().stream().noneMatch(server -> server.backendPid() == pooled),
          "the pid the node holds is the pooler's, not a server's: it is behind a pooler");
    }
    assertEquals(0, logs.events(Level.ERROR, "").size(), "an error through a session pool");
  }

  private void assertEveryNodeReportsTheTransactionPooler(PgBouncer pooler, int count)
      throws Exception {
    LogCapture logs = resources.add(LogCapture.of(DiscoveryEngine.class));
    Participants nodes = group(pooler);
    Map<DiscoveryEngine, Long> startedAt = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      long started = System.currentTimeMillis();
      startedAt.put(nodes.start(9981 + i, settings()), started);
    }

    Map<Integer, Long> errorAfterMillis = new LinkedHashMap<>();
    for (DiscoveryEngine engine : startedAt.keySet()) {
      String thread = String.valueOf(engine.self().port());
      Poll.until(
          CONNECT_TIMEOUT.plusSeconds(5),
          engine.self().port() + " reports the transaction-mode pooler",
          () -> !poolerErrors(logs, thread).isEmpty(),
          engine::status);
      errorAfterMillis.put(
          engine.self().port(),
          poolerErrors(logs, thread).get(0).getTimeStamp() - startedAt.get(engine));
    }
    log.info(
        "{}: the pooler's ERROR came, in ms after each node started, {}", pooler, errorAfterMillis);

    Map<DiscoveryEngine, Long> attemptsThen = new LinkedHashMap<>();
    startedAt.keySet().forEach(e -> attemptsThen.put(e, e.status().connectionAttempts()));
    TimeUnit.MILLISECONDS.sleep(WATCHED.toMillis());
    // Each retry waits at least 80% of reconnect-max-backoff (jitter).
    long allowed = 1 + WATCHED.toMillis() / (MAX_BACKOFF.toMillis() * 8 / 10);
    for (DiscoveryEngine engine : startedAt.keySet()) {
      String thread = String.valueOf(engine.self().port());
      EngineStatus status = engine.status();
      assertEquals(ConnectionState.UNSUITABLE_SERVER, status.state(), status.toString());
      long retries = status.connectionAttempts() - attemptsThen.get(engine);
      assertTrue(retries <= allowed, retries + " attempts in " + WATCHED + ": " + status);
      assertEquals(1, poolerErrors(logs, thread).size(), "one error, not one per retry");
      assertFalse(engine.isReady());
      assertFalse(engine.isReadyToServe());
      ExecutionException lookup =
          assertThrows(
              ExecutionException.class,
              () ->
                  engine
                      .contactPoints(Participants.SERVICE, Duration.ofMillis(200))
                      .get(10, TimeUnit.SECONDS));
      assertInstanceOf(NotReadyException.class, lookup.getCause());
      assertTrue(
          lookup.getCause().getMessage().contains("pooler in transaction mode"),
          lookup.getCause().getMessage());
    }
  }

  private static List<ILoggingEvent> poolerErrors(LogCapture logs, String threadPart) {
    return logs.events(Level.ERROR, threadPart).stream()
        .filter(e -> e.getFormattedMessage().contains("connection pooler in transaction mode"))
        .toList();
  }

  private Participants group(PgBouncer pooler) {
    Participants nodes = new Participants(db, pooler.jdbcUrl(), db.newChannelName());
    groups.add(nodes);
    return nodes;
  }

  private static UnaryOperator<DiscoverySettings.Builder> settings() {
    return s ->
        s.connectTimeout(CONNECT_TIMEOUT).reconnectBackoff(Duration.ofMillis(100), MAX_BACKOFF);
  }
}
