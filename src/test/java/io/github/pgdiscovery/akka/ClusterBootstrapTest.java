package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.ActorSystem;
import akka.cluster.Cluster;
import io.github.pgdiscovery.testing.AkkaNodes;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.PostgresExtension;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Real actor systems form, shrink and grow one cluster with Cluster Bootstrap and the postgres method. */
@ExtendWith(PostgresExtension.class)
final class ClusterBootstrapTest {

  private static final Duration FORMATION_DEADLINE = Duration.ofSeconds(60);

  private final AkkaNodes nodes;

  ClusterBootstrapTest(TestDatabase db) {
    this.nodes = new AkkaNodes(db, 3);
  }

  @AfterEach
  void stopNodes() {
    nodes.close();
  }

  @Test
  void threeNodesFormOneClusterThenOneLeavesAndAFourthJoins() {
    List<ActorSystem> first = List.of(nodes.start(), nodes.start(), nodes.start());
    Set<String> three = first.stream().map(AkkaNodes::address).collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem system : first) {
      Poll.until(FORMATION_DEADLINE, AkkaNodes.address(system) + " sees all three Up",
          () -> AkkaNodes.upMembers(system).equals(three), () -> AkkaNodes.upMembers(system));
    }

    for (ActorSystem system : first) {
      // Up in the cluster: from the next heartbeat on, the node announces at the joined interval.
      Poll.until(Duration.ofSeconds(10), AkkaNodes.address(system) + " announces at the joined interval",
          () -> PostgresDiscovery.get(system).engine().status().heartbeatInterval().equals(Duration.ofSeconds(120)),
          () -> PostgresDiscovery.get(system).engine().status().heartbeatInterval());
    }

    ActorSystem leaving = first.get(2);
    int leavingPort = AkkaNodes.managementPort(leaving);
    Cluster.get(leaving).leave(Cluster.get(leaving).selfAddress());
    Set<Integer> remainingPorts =
        first.subList(0, 2).stream().map(AkkaNodes::managementPort).collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem system : first.subList(0, 2)) {
      // Expiry is three minutes away: only the goodbye or the cluster's removal event can explain this.
      Poll.until(Duration.ofSeconds(20), AkkaNodes.address(system) + " no longer hands out " + leavingPort,
          () -> AkkaNodes.lookupPorts(system).equals(remainingPorts), () -> AkkaNodes.lookupPorts(system));
    }

    ActorSystem fourth = nodes.start();
    Set<String> afterJoin = new TreeSet<>(three);
    afterJoin.remove(AkkaNodes.address(leaving));
    afterJoin.add(AkkaNodes.address(fourth));
    for (ActorSystem system : List.of(first.get(0), first.get(1), fourth)) {
      Poll.until(FORMATION_DEADLINE, AkkaNodes.address(system) + " sees the fourth node join",
          () -> AkkaNodes.upMembers(system).equals(afterJoin), () -> AkkaNodes.upMembers(system));
    }
    assertEquals(3, AkkaNodes.upMembers(fourth).size());
  }
}
