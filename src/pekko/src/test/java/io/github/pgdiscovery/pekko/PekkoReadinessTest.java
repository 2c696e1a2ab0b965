package io.github.pgdiscovery.pekko;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.ManagementHttp;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.ActorSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Pekko readiness check follows the same rule as the Akka one (the long outage is tested
 * there): members of a formed cluster answer ready while the database is away; a node that cannot
 * reach it does not.
 */
@DatabaseTest
final class PekkoReadinessTest {

  private static final Duration OUTAGE = Duration.ofSeconds(10);
  private static final String READINESS_CHECK =
      "pekko.management.health-checks.readiness-checks.postgres-discovery ="
          + " \"io.github.pgdiscovery.pekko.PostgresReadinessCheck\"\n";

  private final TestDatabase db;
  private final PekkoNodes nodes;
  private final TcpProxy database;

  PekkoReadinessTest(TestDatabase db) {
    this.db = db;
    this.nodes = new PekkoNodes(db, 2);
    this.database = new TcpProxy(db.host(), db.port(), TcpProxy.freePort());
  }

  @AfterEach
  void stop() {
    nodes.close();
    database.close();
  }

  @Test
  void membersOfAFormedClusterAnswerReadyWhileTheDatabaseIsAway() throws Exception {
    database.start();
    String overrides = READINESS_CHECK + url();
    List<ActorSystem> members = List.of(nodes.start(overrides), nodes.start(overrides));
    Set<String> cluster =
        members.stream().map(PekkoNodes::address).collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem member : members) {
      Poll.until(
          Duration.ofSeconds(60),
          PekkoNodes.address(member) + " sees both Up and answers ready",
          () -> PekkoNodes.upMembers(member).equals(cluster) && readiness(member) == 200,
          () -> PekkoNodes.upMembers(member));
    }

    database.stop();
    for (ActorSystem member : members) {
      DiscoveryEngine engine = PostgresDiscovery.get(member).engine();
      Poll.until(
          Duration.ofSeconds(30),
          "discovery lost the database",
          () -> !engine.isReady(),
          engine::status);
    }
    long end = System.nanoTime() + OUTAGE.toNanos();
    while (System.nanoTime() < end) {
      for (ActorSystem member : members) {
        assertEquals(200, readiness(member), PekkoNodes.address(member) + " during the outage");
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
  }

  @Test
  void aNodeThatCannotReachTheDatabaseIsNotReady() {
    ActorSystem node =
        nodes.start(
            READINESS_CHECK + url() + "\npekko.discovery.postgres.reconnect-max-backoff = 500ms");
    DiscoveryEngine engine = PostgresDiscovery.get(node).engine();
    Poll.until(
        Duration.ofSeconds(30),
        "three failed connection attempts",
        () -> engine.status().connectionAttempts() >= 3,
        engine::status);

    assertNotEquals(200, readiness(node));
  }

  private String url() {
    return "pekko.discovery.postgres.url = \"" + db.jdbcUrlVia(database.port()) + "\"";
  }

  private static int readiness(ActorSystem system) {
    return ManagementHttp.status(PekkoNodes.managementPort(system), "/ready");
  }
}
