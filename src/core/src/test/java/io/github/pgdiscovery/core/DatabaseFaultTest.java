package io.github.pgdiscovery.core;

import static io.github.pgdiscovery.core.Participants.awaitPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.LogCapture;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.RestartablePostgres;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine when the database misbehaves: it recovers without crashing, warns once per outage,
 * resyncs.
 */
@DatabaseTest
final class DatabaseFaultTest {

  private static final Logger log = LoggerFactory.getLogger(DatabaseFaultTest.class);
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private final TestDatabase db;
  private final Participants participants;
  private final Resources resources = new Resources();

  DatabaseFaultTest(TestDatabase db) {
    this.db = db;
    this.participants = new Participants(db);
  }

  @AfterEach
  void cleanUp() throws Exception {
    participants.close();
    resources.close();
  }

  @Test
  void serverRestartIsSurvivedAndBothNodesListenAgain(@TempDir Path dataDirectory)
      throws Exception {
    RestartablePostgres server = RestartablePostgres.start(dataDirectory);
    resources.add(server);
    UnaryOperator<DiscoverySettings.Builder> onServer =
        s ->
            s.url(server.jdbcUrl())
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500));
    DiscoveryEngine a = participants.start(9901, onServer);
    DiscoveryEngine b = participants.start(9902, onServer);
    awaitPorts(a, Set.of(9901, 9902));
    awaitPorts(b, Set.of(9901, 9902));

    server.restart();
    Poll.until(
        DEADLINE,
        "both reconnect",
        () ->
            a.status().reconnects() == 1
                && b.status().reconnects() == 1
                && a.isReady()
                && b.isReady(),
        () -> a.status() + " / " + b.status());
    // Heartbeats are a minute apart: a and b learn of the newcomer only if they are listening
    // again.
    participants.start(9903, onServer);

    awaitPorts(a, Set.of(9901, 9902, 9903));
    awaitPorts(b, Set.of(9901, 9902, 9903));
  }

  @Test
  void afterAServerRestartMembersAnnounceAndProbeOnceEachAndAreAnsweredWithoutTheirViews(
      @TempDir Path dataDirectory) throws Exception {
    RestartablePostgres server = RestartablePostgres.start(dataDirectory);
    resources.add(server);
    UnaryOperator<DiscoverySettings.Builder> onServer =
        s ->
            s.url(server.jdbcUrl())
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500));
    List<DiscoveryEngine> members =
        List.of(
            participants.start(9911, onServer),
            participants.start(9912, onServer),
            participants.start(9913, onServer));
    for (DiscoveryEngine member : members) {
      awaitPorts(member, Set.of(9911, 9912, 9913));
      member.joined();
    }
    Map<DiscoveryEngine, Long> sentBefore = new HashMap<>();
    members.forEach(member -> sentBefore.put(member, member.status().sent()));

    server.restart();
    Poll.until(
        DEADLINE,
        "every member reconnected and ready",
        () -> members.stream().allMatch(m -> m.status().reconnects() == 1 && m.isReady()),
        () -> members.stream().map(DiscoveryEngine::status).toList());

    // Heartbeats are a minute apart: each member sent its announcement and its probe (with its
    // view's digest) on
    // reconnect, and answered at most each other member's probe with one roster part, empty as
    // their views agree
    // (whole views of three would be one part each too; the simulator counts the cost at large N).
    for (DiscoveryEngine member : members) {
      awaitPorts(member, Set.of(9911, 9912, 9913));
      long sent = member.status().sent() - sentBefore.get(member);
      assertTrue(sent >= 2 && sent <= 2 + members.size() - 1, sent + " sent: " + member.status());
    }
  }

  @Test
  void aMemberUpInItsClusterStaysReadyToServeThroughAnOutageAndANodeThatHasNotJoinedDoesNot()
      throws Exception {
    TcpProxy proxy = proxy();
    UnaryOperator<DiscoverySettings.Builder> viaProxy = s -> s.url(db.jdbcUrlVia(proxy.port()));
    DiscoveryEngine member = participants.start(9921, viaProxy);
    DiscoveryEngine newcomer = participants.start(9922, viaProxy);
    awaitPorts(member, Set.of(9921, 9922));
    awaitPorts(newcomer, Set.of(9921, 9922));
    member.memberUp(member.self().address(), member.self().uid());

    proxy.stop();
    Poll.until(
        DEADLINE,
        "both lost the database and answer no lookups",
        () -> !member.isReady() && !newcomer.isReady(),
        () -> member.status() + " / " + newcomer.status());
    assertTrue(member.isReadyToServe(), "a member needs no database to serve");
    assertFalse(newcomer.isReadyToServe(), "a node that cannot discover is not ready");

    // Removed from the cluster, or shutting down: it is no member any more.
    member.memberRemoved(member.self().address(), member.self().uid());
    assertFalse(member.isReadyToServe());
  }

  @Test
  void longOutageLogsOneWarningAndOneRecoveryWhateverTheNumberOfRetries() throws Exception {
    LogCapture logs = LogCapture.of(DiscoveryEngine.class);
    resources.add(logs);
    TcpProxy proxy = proxy();
    DiscoveryEngine node =
        participants.start(
            9911,
            s ->
                s.url(db.jdbcUrlVia(proxy.port()))
                    .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200)));
    awaitPorts(node, Set.of(9911));
    String thread = participants.channel() + "-9911";

    proxy.stop();
    Poll.until(
        DEADLINE,
        "at least five failed reconnection attempts",
        () -> logs.count(Level.DEBUG, thread, "Reconnect attempt 5") == 1);
    proxy.start();
    Poll.until(DEADLINE, "reconnected", node::isReady, node::status);

    assertEquals(1, logs.count(Level.WARN, thread, "unavailable"));
    assertEquals(1, logs.count(Level.INFO, thread, "Reconnected"));
    assertEquals(1, node.status().reconnects());
  }

  @Test
  void silentConnectionIsNoticedAndReplaced() throws Exception {
    TcpProxy proxy = proxy();
    DiscoveryEngine node =
        participants.start(
            9921,
            s ->
                s.url(db.jdbcUrlVia(proxy.port()))
                    .connectTimeout(Duration.ofSeconds(1))
                    .connectionCheckInterval(Duration.ofSeconds(1))
                    .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500)));
    awaitPorts(node, Set.of(9921));

    long silencedAt = System.nanoTime();
    proxy.silence();
    Poll.until(DEADLINE, "the silent connection is given up", () -> !node.isReady(), node::status);
    long noticedMillis = Duration.ofNanos(System.nanoTime() - silencedAt).toMillis();
    Poll.until(DEADLINE, "a new connection is ready", node::isReady, node::status);

    log.info(
        "Silent connection noticed after {} ms (connection-check-interval 1 s, connect-timeout 1 s)",
        noticedMillis);
    assertEquals(1, node.status().reconnects());
    assertEquals(ConnectionState.CONNECTED, node.status().state());
  }

  @Test
  void connectionThatDeliversNoNotificationsFailsTheSelfCheckAndLookups() throws Exception {
    LogCapture logs = LogCapture.of(DiscoveryEngine.class);
    resources.add(logs);
    TcpProxy pooler = TcpProxy.droppingNotifications(db.host(), db.port(), TcpProxy.freePort());
    resources.add(pooler);
    pooler.start();
    String url = db.jdbcUrlVia(pooler.port());
    String plainUrl = url + (url.contains("?") ? "&" : "?") + "sslmode=disable&gssEncMode=disable";
    DiscoveryEngine node =
        participants.start(
            9931,
            s ->
                s.url(plainUrl)
                    .connectTimeout(Duration.ofSeconds(1))
                    .connectionCheckInterval(Duration.ofSeconds(5)));

    Poll.until(
        DEADLINE,
        "the self-check error",
        () -> logs.count(Level.ERROR, participants.channel() + "-9931", "PgBouncer") == 1);

    assertEquals(ConnectionState.CONNECTED, node.status().state());
    ExecutionException failure =
        assertThrows(
            ExecutionException.class,
            () ->
                node.contactPoints(Participants.SERVICE, Duration.ofMillis(200))
                    .get(10, TimeUnit.SECONDS));
    assertInstanceOf(NotReadyException.class, failure.getCause());
    assertTrue(node.status().sent() >= 2, "it did announce and probe: " + node.status());
  }

  private TcpProxy proxy() throws Exception {
    TcpProxy proxy = new TcpProxy(db.host(), db.port(), TcpProxy.freePort());
    resources.add(proxy);
    proxy.start();
    return proxy;
  }
}
