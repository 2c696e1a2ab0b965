package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.actor.CoordinatedShutdown;
import akka.cluster.Cluster;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real actor systems form, shrink and grow one cluster with Cluster Bootstrap and the postgres
 * method; and each of the three ways a node leaves the other nodes' lookups works on its own: its
 * goodbye, the cluster's MemberRemoved, and expiry.
 */
@DatabaseTest
final class ClusterBootstrapTest {

  private static final Duration FORMATION_DEADLINE = Duration.ofSeconds(60);

  /** Far below the expiry of AkkaNodes' configuration (three minutes, more for a joined node). */
  private static final Duration REMOVAL_DEADLINE = Duration.ofSeconds(30);

  /**
   * Management port of the discovery participant outside the cluster; any port, it is never
   * contacted.
   */
  private static final int OBSERVER_PORT = 9991;

  private final TestDatabase db;
  private final AkkaNodes nodes;
  private final Resources resources = new Resources();

  ClusterBootstrapTest(TestDatabase db) {
    this.db = db;
    this.nodes = new AkkaNodes(db, 3);
  }

  @AfterEach
  void stopNodes() throws Exception {
    nodes.close();
    resources.close();
  }

  @Test
  void threeNodesFormOneClusterThenOneLeavesAndAFourthJoins() {
    List<ActorSystem> first = List.of(nodes.start(), nodes.start(), nodes.start());
    Set<String> three =
        first.stream().map(AkkaNodes::address).collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem system : first) {
      Poll.until(
          FORMATION_DEADLINE,
          AkkaNodes.address(system) + " sees all three Up",
          () -> AkkaNodes.upMembers(system).equals(three),
          () -> AkkaNodes.upMembers(system));
    }

    for (ActorSystem system : first) {
      // Up in the cluster: the node said once that its cluster watches it, and is quiet (joined
      // heartbeats off).
      Poll.until(
          Duration.ofSeconds(10),
          AkkaNodes.address(system) + " stops heartbeats",
          () -> PostgresDiscovery.get(system).engine().status().heartbeatInterval().isZero(),
          () -> PostgresDiscovery.get(system).engine().status().heartbeatInterval());
    }

    ActorSystem leaving = first.get(2);
    int leavingPort = AkkaNodes.managementPort(leaving);
    Cluster.get(leaving).leave(Cluster.get(leaving).selfAddress());
    Set<Integer> remainingPorts = ports(first.subList(0, 2));
    for (ActorSystem system : first.subList(0, 2)) {
      // Expiry is three minutes away: the goodbye or the cluster's removal event explains this
      // (each of them is
      // tested alone below).
      Poll.until(
          REMOVAL_DEADLINE,
          AkkaNodes.address(system) + " no longer hands out " + leavingPort,
          () -> AkkaNodes.lookupPorts(system).equals(remainingPorts),
          () -> AkkaNodes.lookupPorts(system));
    }

    ActorSystem fourth = nodes.start();
    Set<String> afterJoin = new TreeSet<>(three);
    afterJoin.remove(AkkaNodes.address(leaving));
    afterJoin.add(AkkaNodes.address(fourth));
    for (ActorSystem system : List.of(first.get(0), first.get(1), fourth)) {
      Poll.until(
          FORMATION_DEADLINE,
          AkkaNodes.address(system) + " sees the fourth node join",
          () -> AkkaNodes.upMembers(system).equals(afterJoin),
          () -> AkkaNodes.upMembers(system));
    }
    assertEquals(3, AkkaNodes.upMembers(fourth).size());
  }

  /**
   * Once the cluster has formed, its nodes send nothing on the channel: with heartbeats every 300
   * ms before they joined, not one more message while a participant on another channel of the same
   * server sends ten.
   */
  @Test
  void aFormedClusterSendsNothingOnTheChannel() throws Exception {
    String quick =
        String.join(
            "\n",
            "akka.discovery.postgres.heartbeat-interval = 300ms",
            "akka.discovery.postgres.expire-after = 2s");
    List<ActorSystem> three = List.of(nodes.start(quick), nodes.start(quick), nodes.start(quick));
    awaitOneCluster(three);
    for (ActorSystem system : three) {
      Poll.until(
          Duration.ofSeconds(10),
          AkkaNodes.address(system) + " stops heartbeats",
          () -> PostgresDiscovery.get(system).engine().status().heartbeatInterval().isZero(),
          () -> PostgresDiscovery.get(system).engine().status().heartbeatInterval());
    }
    Poll.until(
        Duration.ofSeconds(10),
        "the lookups agree",
        () -> three.stream().allMatch(system -> AkkaNodes.lookupPorts(system).equals(ports(three))),
        () -> "");
    long[] sentBefore =
        three.stream()
            .mapToLong(system -> PostgresDiscovery.get(system).engine().status().sent())
            .toArray();

    DiscoveryEngine ticking =
        outsider(
            db.newChannelName(), s -> s.timings(Duration.ofMillis(300), Duration.ofSeconds(2)));
    Poll.until(
        Duration.ofSeconds(30),
        "ten heartbeats elsewhere",
        () -> ticking.status().sent() >= 12,
        ticking::status);

    for (int i = 0; i < three.size(); i++) {
      assertEquals(
          sentBefore[i],
          PostgresDiscovery.get(three.get(i)).engine().status().sent(),
          AkkaNodes.address(three.get(i)) + " sent while the cluster stood");
    }
  }

  /**
   * The goodbye alone: the observer is a discovery participant on the cluster's channel but no
   * cluster member, so no MemberRemoved reaches it, and its expiry of the node is minutes away.
   */
  @Test
  void nodeShutDownByCoordinatedShutdownIsDroppedAtOnceThroughItsGoodbye() throws Exception {
    AkkaNodes pair = resources.add(new AkkaNodes(db, 2));
    DiscoveryEngine observer = observer(pair);
    ActorSystem stays = pair.start();
    ActorSystem leaves = pair.start();
    awaitOneCluster(List.of(stays, leaves));
    awaitLookup(observer, ports(List.of(stays, leaves)));

    CoordinatedShutdown.get(leaves)
        .runAll(CoordinatedShutdown.unknownReason())
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);

    awaitLookup(observer, ports(List.of(stays)));
    awaitLookup(stays, ports(List.of(stays)));
  }

  /**
   * MemberRemoved alone: the removed node's connection to the database is cut, and it cannot
   * reconnect, before the cluster downs it, so its goodbye cannot reach the channel; expiry is
   * minutes away.
   */
  @Test
  void nodeRemovedFromTheClusterIsDroppedThroughMemberRemovedWhileItsGoodbyeCannotBeSent()
      throws Exception {
    TcpProxy removedsDatabase =
        resources.add(new TcpProxy(db.host(), db.port(), TcpProxy.freePort()));
    removedsDatabase.start();
    AkkaNodes pair = resources.add(new AkkaNodes(db, 2));
    DiscoveryEngine observer = observer(pair);
    ActorSystem stays = pair.start();
    ActorSystem removed = pair.start(viaProxy(removedsDatabase));
    awaitOneCluster(List.of(stays, removed));
    Set<Integer> both = ports(List.of(stays, removed));
    awaitLookup(stays, both);
    awaitLookup(observer, both);

    DiscoveryEngine removedEngine = PostgresDiscovery.get(removed).engine();
    removedsDatabase.stop();
    Poll.until(
        REMOVAL_DEADLINE,
        "the removed node's discovery notices its connection is gone",
        () -> !removedEngine.isReady(),
        removedEngine::status);
    Cluster.get(stays).down(Cluster.get(removed).selfAddress());

    awaitLookup(stays, ports(List.of(stays)));
    assertEquals(
        both,
        lookupPorts(observer),
        "no goodbye reached the channel: the participant outside the cluster still lists the removed node");
  }

  /**
   * Expiry alone: a node whose connection to the database is cut, and cannot reconnect, falls
   * silent on the channel; it is still a member of the cluster and never stopped announcing (so
   * neither MemberRemoved nor a goodbye), yet the other node drops it once it has not been heard
   * for expire-after.
   */
  @Test
  void nodeCutOffFromTheDatabaseIsDroppedAfterExpiryWhileStillAMember() throws Exception {
    String quickExpiry =
        String.join(
            "\n",
            "akka.discovery.postgres.heartbeat-interval = 1s",
            "akka.discovery.postgres.joined-heartbeat-interval = 1s",
            "akka.discovery.postgres.expire-after = 3s");
    TcpProxy silentsDatabase =
        resources.add(new TcpProxy(db.host(), db.port(), TcpProxy.freePort()));
    silentsDatabase.start();
    AkkaNodes pair = resources.add(new AkkaNodes(db, 2));
    ActorSystem stays = pair.start(quickExpiry);
    ActorSystem silent = pair.start(quickExpiry + "\n" + viaProxy(silentsDatabase));
    List<ActorSystem> both = List.of(stays, silent);
    awaitOneCluster(both);
    awaitLookup(stays, ports(both));

    silentsDatabase.stop();

    awaitLookup(stays, ports(List.of(stays)));
    assertEquals(
        addresses(both), AkkaNodes.upMembers(stays), "the silent node is still an Up member");
    assertTrue(
        PostgresDiscovery.get(silent).engine().status().announcing(),
        "the silent node never stopped announcing, so it never said goodbye");
  }

  /**
   * A discovery participant on {@code nodes}' channel that is not a member of their cluster,
   * listening before they start. It announces another service, so it is no contact point of theirs;
   * and as the nodes answer only probes for their own service, it learns of them from the
   * announcements they make when they connect.
   */
  private DiscoveryEngine observer(AkkaNodes nodes) {
    DiscoveryEngine observer = outsider(nodes.channel(), settings -> settings);
    Poll.until(
        REMOVAL_DEADLINE,
        "the participant outside the cluster is listening",
        observer::isReady,
        observer::status);
    return observer;
  }

  private String viaProxy(TcpProxy proxy) {
    return "akka.discovery.postgres.url = \"" + db.jdbcUrlVia(proxy.port()) + "\"";
  }

  private static void awaitOneCluster(List<ActorSystem> systems) {
    Set<String> all = addresses(systems);
    for (ActorSystem system : systems) {
      Poll.until(
          FORMATION_DEADLINE,
          AkkaNodes.address(system) + " sees " + all + " Up",
          () -> AkkaNodes.upMembers(system).equals(all),
          () -> AkkaNodes.upMembers(system));
    }
  }

  private static void awaitLookup(ActorSystem system, Set<Integer> expected) {
    Poll.until(
        REMOVAL_DEADLINE,
        AkkaNodes.address(system) + " hands out exactly " + expected,
        () -> AkkaNodes.lookupPorts(system).equals(expected),
        () -> AkkaNodes.lookupPorts(system));
  }

  private static void awaitLookup(DiscoveryEngine observer, Set<Integer> expected) {
    Poll.until(
        REMOVAL_DEADLINE,
        "the participant outside the cluster hands out exactly " + expected,
        () -> lookupPorts(observer).equals(expected),
        () -> lookupPorts(observer) + " " + observer.status());
  }

  /**
   * A discovery engine that is no Akka node, on {@code channel}: it announces another service from
   * 127.0.0.1:{@link #OBSERVER_PORT}, with heartbeat and expiry long enough (60 s, 180 s) that only
   * probes and goodbyes explain what it sees, unless {@code adjust} says otherwise.
   */
  private DiscoveryEngine outsider(
      String channel, UnaryOperator<DiscoverySettings.Builder> adjust) {
    DiscoverySettings settings =
        adjust
            .apply(
                DiscoverySettings.builder(db.jdbcUrl())
                    .user(db.user())
                    .password(db.password())
                    .channel(channel)
                    .timings(Duration.ofSeconds(60), Duration.ofSeconds(180)))
            .build();
    Announcement self =
        new Announcement(
            "outsider",
            "127.0.0.1",
            OBSERVER_PORT,
            "akka://outsider@127.0.0.1:" + (OBSERVER_PORT + 1000),
            OBSERVER_PORT,
            UUID.randomUUID().toString());
    DiscoveryEngine engine = resources.add(new DiscoveryEngine(settings, self));
    engine.start();
    return engine;
  }

  /**
   * The management ports {@code engine} hands out for the cluster's service; empty while not ready.
   */
  private static Set<Integer> lookupPorts(DiscoveryEngine engine) {
    try {
      return engine
          .contactPoints(AkkaNodes.SERVICE, Duration.ofSeconds(5))
          .get(10, TimeUnit.SECONDS)
          .stream()
          .map(Announcement::port)
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (Exception e) {
      return Set.of();
    }
  }

  private static Set<Integer> ports(List<ActorSystem> systems) {
    return systems.stream()
        .map(AkkaNodes::managementPort)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static Set<String> addresses(List<ActorSystem> systems) {
    return systems.stream().map(AkkaNodes::address).collect(Collectors.toCollection(TreeSet::new));
  }
}
