package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.ActorSystem;
import akka.cluster.Cluster;
import akka.cluster.MemberStatus;
import akka.discovery.Discovery;
import akka.discovery.ServiceDiscovery;
import io.github.pgdiscovery.testing.AkkaNodes;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.PostgresExtension;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Nodes that start while the database is unreachable wait, form no cluster, and bootstrap once it appears. */
@ExtendWith(PostgresExtension.class)
final class DatabaseOutageBootstrapTest {

  private final TestDatabase db;
  private final AkkaNodes nodes;
  private final TcpProxy database;

  DatabaseOutageBootstrapTest(TestDatabase db) {
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
  void nodesStartedWhileTheDatabaseIsUnreachableBootstrapOnceItAppears() throws Exception {
    String overrides = "akka.discovery.postgres.url = \"" + db.jdbcUrlVia(database.port()) + "\"\n"
        + "akka.discovery.postgres.reconnect-max-backoff = 500ms";
    List<ActorSystem> systems = List.of(nodes.start(overrides), nodes.start(overrides), nodes.start(overrides));
    for (ActorSystem system : systems) {
      Poll.until(Duration.ofSeconds(20), "a failed connection attempt",
          () -> PostgresDiscovery.get(system).engine().status().lastError() != null);
    }

    ServiceDiscovery discovery = Discovery.get(systems.get(0)).loadServiceDiscovery("postgres");
    ExecutionException lookup = assertThrows(ExecutionException.class,
        () -> discovery.lookup(AkkaNodes.SERVICE, Duration.ofMillis(500)).toCompletableFuture()
            .get(10, TimeUnit.SECONDS));
    assertInstanceOf(ServiceDiscovery.DiscoveryTimeoutException.class, lookup.getCause());
    for (ActorSystem system : systems) {
      assertNotEquals(MemberStatus.up(), Cluster.get(system).selfMember().status(), "formed without discovery");
    }

    database.start();

    Set<String> all = systems.stream().map(AkkaNodes::address).collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem system : systems) {
      Poll.until(Duration.ofSeconds(60), AkkaNodes.address(system) + " sees all three Up",
          () -> AkkaNodes.upMembers(system).equals(all), () -> AkkaNodes.upMembers(system));
    }
  }
}
