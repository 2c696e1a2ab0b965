package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.ManagementHttp;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A formed cluster through a long database outage, with the readiness check enabled as the README
 * shows: every member answers ready throughout, none is removed, reconnection attempts stay within
 * what the backoff allows, every node is back within seconds of the database, and a newcomer then
 * joins the same cluster. The outage lasts {@value #DEFAULT_OUTAGE_SECONDS} s, or {@code
 * -Doutage.seconds=120}.
 */
@DatabaseTest
final class FormedClusterOutageTest {

  private static final Logger log = LoggerFactory.getLogger(FormedClusterOutageTest.class);
  private static final int DEFAULT_OUTAGE_SECONDS = 60;
  private static final Duration OUTAGE =
      Duration.ofSeconds(Integer.getInteger("outage.seconds", DEFAULT_OUTAGE_SECONDS));
  private static final Duration READINESS_POLL = Duration.ofMillis(250);
  private static final String READINESS_CHECK =
      "akka.management.health-checks.readiness-checks.postgres-discovery ="
          + " \"io.github.pgdiscovery.akka.PostgresReadinessCheck\"\n";

  private final TestDatabase db;
  private final AkkaNodes nodes;
  private final TcpProxy database;

  FormedClusterOutageTest(TestDatabase db) throws Exception {
    this.db = db;
    this.nodes = new AkkaNodes(db, 3);
    this.database = new TcpProxy(db.host(), db.port(), TcpProxy.freePort());
  }

  @AfterEach
  void stop() {
    nodes.close();
    database.close();
  }

  @Test
  void aFormedClusterStaysReadyAndWholeThroughALongOutageAndANewcomerJoinsAfterIt()
      throws Exception {
    database.start();
    String overrides =
        READINESS_CHECK
            + "akka.discovery.postgres.url = \""
            + db.jdbcUrlVia(database.port())
            + "\"";
    List<ActorSystem> members =
        List.of(nodes.start(overrides), nodes.start(overrides), nodes.start(overrides));
    Set<String> cluster = addresses(members);
    for (ActorSystem member : members) {
      Poll.until(
          Duration.ofSeconds(60),
          AkkaNodes.address(member) + " sees all three Up and answers ready",
          () -> AkkaNodes.upMembers(member).equals(cluster) && readiness(member) == 200,
          () -> AkkaNodes.upMembers(member));
    }
    Map<ActorSystem, Long> attemptsBefore = new LinkedHashMap<>();
    members.forEach(
        member -> attemptsBefore.put(member, engine(member).status().connectionAttempts()));

    database.stop();
    long outageStart = System.nanoTime();
    int polls = 0;
    boolean sawDisconnected = false;
    while (System.nanoTime() - outageStart < OUTAGE.toNanos()) {
      for (ActorSystem member : members) {
        assertEquals(
            200, readiness(member), AkkaNodes.address(member) + " not ready during the outage");
        assertEquals(cluster, AkkaNodes.upMembers(member), "a member left the cluster");
        sawDisconnected |= engine(member).status().state() != ConnectionState.CONNECTED;
        polls++;
      }
      TimeUnit.MILLISECONDS.sleep(READINESS_POLL.toMillis());
    }
    assertTrue(sawDisconnected, "the outage reached discovery");

    DiscoverySettings settings = engine(members.get(0)).settings();
    long bound = maxAttempts(settings, OUTAGE);
    Map<String, Long> attempts = new LinkedHashMap<>();
    for (ActorSystem member : members) {
      long made = engine(member).status().connectionAttempts() - attemptsBefore.get(member);
      attempts.put(AkkaNodes.address(member), made);
      assertTrue(made <= bound, made + " attempts in " + OUTAGE + ", backoff allows " + bound);
    }

    database.start();
    long back = System.nanoTime();
    Map<String, Long> backAfterMillis = new LinkedHashMap<>();
    for (ActorSystem member : members) {
      DiscoveryEngine engine = engine(member);
      // The longest wait is one backoff at its maximum (plus jitter), then a connect and a probe.
      Poll.until(
          settings.database().reconnectMaxBackoff().multipliedBy(2).plusSeconds(10),
          AkkaNodes.address(member) + " reconnected and answers lookups",
          () -> engine.status().state() == ConnectionState.CONNECTED && engine.isReady(),
          engine::status);
      backAfterMillis.put(
          AkkaNodes.address(member), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - back));
    }
    log.info(
        "Outage of {}: {} readiness answers, all 200; connection attempts per node {} (backoff allows"
            + " {}); back after the database in ms (upper bounds, polled in turn) {}",
        OUTAGE,
        polls,
        attempts,
        bound,
        backAfterMillis);

    ActorSystem newcomer = nodes.start(overrides);
    AkkaNodes.awaitOneCluster(
        List.of(members.get(0), members.get(1), members.get(2), newcomer), Duration.ofSeconds(60));
  }

  @Test
  void aNodeThatCannotReachTheDatabaseIsNotReady() throws Exception {
    String overrides =
        READINESS_CHECK
            + "akka.discovery.postgres.url = \""
            + db.jdbcUrlVia(database.port())
            + "\"\nakka.discovery.postgres.reconnect-max-backoff = 500ms";
    ActorSystem node = nodes.start(overrides);
    Poll.until(
        Duration.ofSeconds(30),
        "three failed connection attempts",
        () -> engine(node).status().connectionAttempts() >= 3,
        () -> engine(node).status());

    assertNotEquals(200, readiness(node));
  }

  /**
   * The most attempts the backoff allows in {@code window}: the first at once, each next after at
   * least 80% (the jitter) of a delay doubling from the minimum up to the maximum.
   */
  private static long maxAttempts(DiscoverySettings settings, Duration window) {
    long min = settings.database().reconnectMinBackoff().toNanos();
    long max = settings.database().reconnectMaxBackoff().toNanos();
    long elapsed = 0;
    long attempts = 1;
    for (int retry = 1; ; retry++) {
      double delay = Math.min((double) max, min * Math.pow(2, Math.min(retry - 1, 30)));
      elapsed += (long) (delay * 0.8);
      if (elapsed > window.toNanos()) {
        return attempts;
      }
      attempts++;
    }
  }

  private static int readiness(ActorSystem system) {
    return ManagementHttp.status(AkkaNodes.managementPort(system), "/ready");
  }

  private static DiscoveryEngine engine(ActorSystem system) {
    return PostgresDiscovery.get(system).engine();
  }

  private static Set<String> addresses(List<ActorSystem> systems) {
    return systems.stream().map(AkkaNodes::address).collect(Collectors.toCollection(TreeSet::new));
  }
}
