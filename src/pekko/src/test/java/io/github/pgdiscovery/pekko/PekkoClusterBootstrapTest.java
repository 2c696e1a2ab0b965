package io.github.pgdiscovery.pekko;

import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.cluster.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real Pekko actor systems form one cluster through the postgres method, and nodes that go are
 * dropped.
 */
@DatabaseTest
final class PekkoClusterBootstrapTest {

  private static final Duration FORMATION_DEADLINE = Duration.ofSeconds(60);

  private final TestDatabase db;
  private final PekkoNodes nodes;

  PekkoClusterBootstrapTest(TestDatabase db) {
    this.db = db;
    // Fewer required contact points than nodes: it is discovery's readiness gate that keeps them
    // from splitting.
    this.nodes = new PekkoNodes(db, 2);
  }

  @AfterEach
  void stopNodes() {
    nodes.close();
  }

  @Test
  void threeNodesFormOneClusterAndANodeShutDownIsDroppedAtOnceThroughItsGoodbye() {
    List<ActorSystem> three = List.of(nodes.start(), nodes.start(), nodes.start());
    awaitOneCluster(three);

    ActorSystem leaving = three.get(2);
    int leavingPort = PekkoNodes.managementPort(leaving);
    CoordinatedShutdown.get(leaving).runAll(CoordinatedShutdown.unknownReason());

    // Expiry is three minutes away: only the goodbye (or the cluster's removal event) can explain
    // this.
    awaitLookups(three.subList(0, 2), leavingPort);
  }

  @Test
  void aMemberRemovedFromTheClusterIsDroppedEvenWhenItsGoodbyeCannotReachTheDatabase()
      throws Exception {
    ActorSystem first = nodes.start();
    ActorSystem second = nodes.start();
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port(), TcpProxy.freePort())) {
      proxy.start();
      ActorSystem cut =
          nodes.start("pekko.discovery.postgres.url = \"" + db.jdbcUrlVia(proxy.port()) + "\"");
      List<ActorSystem> three = List.of(first, second, cut);
      awaitOneCluster(three);

      // Its database goes away; from now on only the cluster's MemberRemoved can tell the others it
      // left.
      proxy.stop();
      Cluster.get(first).down(Cluster.get(cut).selfAddress());

      awaitLookups(List.of(first, second), PekkoNodes.managementPort(cut));
    }
  }

  private static void awaitOneCluster(List<ActorSystem> systems) {
    Set<String> all =
        systems.stream().map(PekkoNodes::address).collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem system : systems) {
      Poll.until(
          FORMATION_DEADLINE,
          PekkoNodes.address(system) + " sees all of " + all + " Up",
          () -> PekkoNodes.upMembers(system).equals(all),
          () -> PekkoNodes.upMembers(system));
    }
  }

  private static void awaitLookups(List<ActorSystem> remaining, int goneManagementPort) {
    Set<Integer> expected =
        remaining.stream()
            .map(PekkoNodes::managementPort)
            .collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem system : remaining) {
      Poll.until(
          Duration.ofSeconds(20),
          PekkoNodes.address(system) + " no longer hands out " + goneManagementPort,
          () -> PekkoNodes.lookupPorts(system).equals(expected),
          () -> PekkoNodes.lookupPorts(system));
    }
  }
}
