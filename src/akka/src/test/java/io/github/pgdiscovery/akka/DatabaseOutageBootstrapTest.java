package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.ActorSystem;
import akka.cluster.Cluster;
import akka.cluster.MemberStatus;
import akka.discovery.Discovery;
import akka.discovery.ServiceDiscovery;
import ch.qos.logback.classic.Level;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.LogCapture;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Nodes that start while the database is unreachable wait, form no cluster, and bootstrap once it
 * appears.
 */
@DatabaseTest
final class DatabaseOutageBootstrapTest {

  /**
   * Logger of Cluster Bootstrap's coordinator, which warns with this text each time a lookup fails.
   */
  private static final String BOOTSTRAP_COORDINATOR =
      "akka.management.cluster.bootstrap.internal.BootstrapCoordinator";

  private static final String LOOKUP_FAILED = "Resolve attempt failed";

  /**
   * Failed lookups every node's Bootstrap must have seen before the nodes are checked for a
   * premature cluster.
   */
  private static final int FAILED_LOOKUPS = 3;

  private final TestDatabase db;
  private final AkkaNodes nodes;
  private final TcpProxy database;
  private final Resources resources = new Resources();

  DatabaseOutageBootstrapTest(TestDatabase db) {
    this.db = db;
    // A single contact point is enough to form a new cluster: a node whose lookup answered with
    // itself alone (all
    // it could know without the database) would form a cluster of its own after the stable margin,
    // each of the
    // three its own. Only the lookups failing while the database is unreachable keep them from it.
    this.nodes = new AkkaNodes(db, 1);
    this.database = new TcpProxy(db.host(), db.port(), TcpProxy.freePort());
  }

  @AfterEach
  void stop() throws Exception {
    nodes.close();
    database.close();
    resources.close();
  }

  @Test
  void nodesStartedWhileTheDatabaseIsUnreachableBootstrapOnceItAppears() throws Exception {
    LogCapture bootstrap = resources.add(LogCapture.of(BOOTSTRAP_COORDINATOR));
    String overrides =
        "akka.discovery.postgres.url = \""
            + db.jdbcUrlVia(database.port())
            + "\"\n"
            + "akka.discovery.postgres.reconnect-max-backoff = 500ms\n"
            // Bootstrap's lookups fail after 1 s instead of 3 s, so that it sees several fail
            // sooner.
            + "akka.management.cluster.bootstrap.contact-point-discovery.resolve-timeout = 1s";
    List<ActorSystem> systems =
        List.of(nodes.start(overrides), nodes.start(overrides), nodes.start(overrides));
    for (ActorSystem system : systems) {
      Poll.until(
          Duration.ofSeconds(20),
          "a failed connection attempt",
          () -> PostgresDiscovery.get(system).engine().status().lastError() != null);
    }

    ServiceDiscovery discovery = Discovery.get(systems.get(0)).loadServiceDiscovery("postgres");
    ExecutionException lookup =
        assertThrows(
            ExecutionException.class,
            () ->
                discovery
                    .lookup(AkkaNodes.SERVICE, Duration.ofMillis(500))
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS));
    assertInstanceOf(ServiceDiscovery.DiscoveryTimeoutException.class, lookup.getCause());

    // Every node's Bootstrap has tried and failed several times, stable margin (1 s) included: a
    // node whose lookups
    // had answered, even with itself alone, would be Up by now. A node that is Up ends the wait at
    // once.
    Poll.until(
        Duration.ofSeconds(60),
        "every node's Bootstrap saw " + FAILED_LOOKUPS + " lookups fail, or a node is Up",
        () ->
            systems.stream().anyMatch(DatabaseOutageBootstrapTest::isUp)
                || systems.stream()
                    .allMatch(system -> failedLookups(bootstrap, system) >= FAILED_LOOKUPS),
        () -> failedLookupsByNode(bootstrap, systems));
    for (ActorSystem system : systems) {
      assertNotEquals(
          MemberStatus.up(),
          Cluster.get(system).selfMember().status(),
          "formed without discovery; failed lookups by node "
              + failedLookupsByNode(bootstrap, systems));
    }

    database.start();

    AkkaNodes.awaitOneCluster(systems, Duration.ofSeconds(60));
  }

  private static boolean isUp(ActorSystem system) {
    return Cluster.get(system).selfMember().status() == MemberStatus.up();
  }

  private static long failedLookups(LogCapture bootstrap, ActorSystem system) {
    return bootstrap.countWithMdc(
        Level.WARN, "akkaAddress", AkkaNodes.address(system), LOOKUP_FAILED);
  }

  private static Map<String, Long> failedLookupsByNode(
      LogCapture bootstrap, List<ActorSystem> systems) {
    Map<String, Long> counts = new TreeMap<>();
    systems.forEach(
        system -> counts.put(AkkaNodes.address(system), failedLookups(bootstrap, system)));
    return counts;
  }
}
