package io.github.pgdiscovery.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cluster Bootstrap's join decision ({@link BootstrapModel}) on top of the discovery protocol, over
 * cold starts: the nodes of a service start one after the other and must end in exactly one cluster
 * ({@code ExactlyOneCluster}), which Bootstrap guarantees only if discovery answers lookups on a
 * complete view. Every seed replays the same run: {@link #coldStart}.
 */
final class ColdStartClusterFormationTest {

  private static final String SERVICE = "orders";
  private static final String SECRET = "simulation-shared-secret-0123456789";

  /** The normal run's seeds: 400 cold starts, 5 s alone on two cores, 15 s on shared ones. */
  static LongStream seeds() {
    return LongStream.range(30_000, 30_400);
  }

  @Test
  void theLowestContactPointFoundsTheClusterOnceTheContactPointsAreStableAndTheOthersJoinIt() {
    Simulation sim =
        new Simulation(
            new Simulation.Config(51).clusterBootstrap(BootstrapModel.Settings.defaults()));
    List<SimulatedNode> nodes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      nodes.add(sim.create(SERVICE));
    }
    // The lowest contact point starts last, two seconds after the others.
    for (SimulatedNode node : nodes.subList(1, 4)) {
      sim.start(node);
    }
    sim.run(Duration.ofSeconds(2));
    SimulatedNode lowest = nodes.get(0);
    sim.start(lowest);

    assertTrue(
        sim.runUntil(
            () -> nodes.stream().allMatch(SimulatedNode::hasJoined), Duration.ofSeconds(30)),
        "seed 51: all joined");
    assertEquals(
        lowest.self().incarnation(),
        lowest.clusterId(),
        "seed 51: the lowest contact point founded the cluster");
    assertTrue(
        nodes.stream().allMatch(n -> lowest.clusterId().equals(n.clusterId())),
        "seed 51: everybody is in its cluster");
    // It heard of the last contact point at about 2 s; the stable margin is 5 s.
    long joinedAt = sim.loop().now();
    assertTrue(
        joinedAt >= Duration.ofSeconds(7).toNanos() && joinedAt < Duration.ofSeconds(10).toNanos(),
        "seed 51: formed after the stable margin, at " + joinedAt / Simulation.MILLISECOND + " ms");
    assertEquals(List.of(), sim.violations(), "seed 51");
  }

  /**
   * What the cold starts found (seeds 30167 and 30309): a shared secret, a node whose wall clock is
   * beyond the replay window, and required-contact-point-nr 1. It starts first and becomes ready
   * alone, on a view that is complete then. The others start two seconds later: it rejects their
   * messages as stale and they reject its. It used to keep answering lookups, being ready already,
   * so Bootstrap let it found a cluster of one, and the others, once its skew had aged out, a
   * second. Skew now spoils readiness until a node has joined: it stops answering lookups as soon
   * as it hears them, so it founds nothing, and the others form one cluster without it (it logs the
   * skew, and so do they, for the operator to fix its clock).
   */
  @Test
  void aNodeBeyondTheReplayWindowFoundsNoClusterOfItsOwnAndTheOthersFormOneWithoutIt() {
    Simulation sim =
        new Simulation(
            new Simulation.Config(52)
                .clusterBootstrap(BootstrapModel.Settings.defaults().requiredContactPoints(1))
                .settings(s -> s.sharedSecret(SECRET)));
    SimulatedNode skewed = sim.create(SERVICE).exclude("wall clock 60 s behind");
    skewed.skewClock(-60_000);
    sim.start(skewed);
    sim.run(Duration.ofSeconds(2));
    List<SimulatedNode> others = sim.startMany(SERVICE, 3, Duration.ofMillis(500));

    assertTrue(
        sim.runUntil(
            () -> others.stream().allMatch(SimulatedNode::hasJoined), Duration.ofSeconds(120)),
        "seed 52: the others joined a cluster");
    sim.run(Duration.ofSeconds(60));
    assertTrue(!skewed.hasJoined(), "seed 52: the skewed node founded no cluster of its own");
    assertTrue(
        others.stream().allMatch(n -> others.get(0).clusterId().equals(n.clusterId())),
        "seed 52: one cluster");
    assertEquals(List.of(), sim.clusterViolations(), () -> sim.describe(sim.clusterViolations()));
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void everyColdStartFormsExactlyOneCluster(long seed) {
    String problems = coldStart(seed);
    assertNull(problems, problems);
  }

  /**
   * One cold start: 2 + required to 9 + required nodes (required-contact-point-nr 1 to 3) started
   * in a random order, each 0 to 3 s after the one before; maybe a crash of a node before it joined
   * or right after a first node joined; maybe a database restart during formation; maybe one node
   * whose wall clock is off by up to 20 s, or by 40 to 90 s (beyond the replay window: signed, it
   * is cut off, never joins, holds the others back, and is stopped 10 to 40 s after the last
   * start); signed or unsigned. Null when every live node that can join joined one and the same
   * cluster and the views converged with no violation, else what went wrong.
   */
  static String coldStart(long seed) {
    SplittableRandom choose = new SplittableRandom(seed);
    boolean signed = choose.nextBoolean();
    int required = 1 + choose.nextInt(3);
    int n = required + 2 + choose.nextInt(8);
    int skew = choose.nextInt(3);
    int skewedIndex = choose.nextInt(n);
    long skewMillis =
        (skew == 1 ? choose.nextLong(20_000) : 40_000 + choose.nextLong(50_000))
            * (choose.nextBoolean() ? 1 : -1);
    // Beyond the replay window, signed, a node's messages are stale to everybody and theirs to it.
    // While a node that has not joined hears it, it does not answer lookups (ClockSkew: two skewed
    // nodes could each form a cluster), so nobody forms one until the operator stops it, below.
    boolean cutOff = signed && skew == 2;
    Simulation sim =
        new Simulation(
            new Simulation.Config(seed)
                .tcpTimeout(Duration.ofSeconds(30))
                .downAfter(Duration.ofSeconds(10))
                .clusterBootstrap(
                    BootstrapModel.Settings.defaults().requiredContactPoints(required))
                .settings(s -> signed ? s.sharedSecret(SECRET) : s));
    StringBuilder log = new StringBuilder();
    log.append("signed=")
        .append(signed)
        .append(", required=")
        .append(required)
        .append(", n=")
        .append(n);

    List<SimulatedNode> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      nodes.add(sim.create(SERVICE));
    }
    SimulatedNode skewed = skew == 0 ? null : nodes.get(skewedIndex);
    if (skewed != null) {
      skewed.skewClock(skewMillis);
      log.append(", ").append(skewed.name()).append(" skewed ").append(skewMillis).append(" ms");
      if (cutOff) {
        skewed.exclude("wall clock " + skewMillis + " ms off, beyond the replay window");
      }
    }
    List<SimulatedNode> order = new ArrayList<>(nodes);
    for (int i = order.size() - 1; i > 0; i--) {
      int j = choose.nextInt(i + 1);
      order.set(j, order.set(i, order.get(j)));
    }
    long at = 0;
    for (int i = 0; i < order.size(); i++) {
      at += i == 0 ? 0 : choose.nextLong(3 * Simulation.SECOND);
      SimulatedNode node = order.get(i);
      sim.loop().at(at, () -> sim.start(node));
    }
    long lastStart = at;
    log.append(", start order ")
        .append(order.stream().map(SimulatedNode::index).toList())
        .append(" over ")
        .append(lastStart / Simulation.MILLISECOND)
        .append(" ms");

    if (choose.nextBoolean()) {
      long restartAt = choose.nextLong(lastStart + 8 * Simulation.SECOND);
      Duration downtime = Duration.ofMillis(100 + choose.nextInt(5000));
      sim.loop().at(restartAt, () -> sim.restartDatabase(downtime));
      log.append(", database restart at ")
          .append(restartAt / Simulation.MILLISECOND)
          .append(" ms for ")
          .append(downtime.toMillis())
          .append(" ms");
    }

    if (cutOff) {
      long stopAt = lastStart + 10 * Simulation.SECOND + choose.nextLong(30 * Simulation.SECOND);
      sim.loop().at(stopAt, () -> sim.shutdown(skewed));
      log.append(", the skewed node stopped at ")
          .append(stopAt / Simulation.MILLISECOND)
          .append(" ms");
    }

    int crash = choose.nextInt(3);
    if (crash == 1) {
      long crashAt = choose.nextLong(lastStart + 5 * Simulation.SECOND);
      long pick = choose.nextLong();
      sim.loop()
          .at(
              crashAt,
              () -> {
                List<SimulatedNode> waiting =
                    sim.live().stream().filter(node -> !node.hasJoined()).toList();
                if (!waiting.isEmpty()) {
                  SimulatedNode victim = waiting.get((int) Math.floorMod(pick, waiting.size()));
                  log.append(", crash of ")
                      .append(victim.name())
                      .append(" before it joined, at ")
                      .append(crashAt / Simulation.MILLISECOND)
                      .append(" ms");
                  sim.crash(victim);
                }
              });
    }
    if (crash == 2) {
      if (!sim.runUntil(
          () -> nodes.stream().anyMatch(SimulatedNode::hasJoined), Duration.ofSeconds(120))) {
        return log + ": nobody joined within 120 s";
      }
      sim.run(Duration.ofMillis(choose.nextInt(3000)));
      List<SimulatedNode> members = sim.live().stream().filter(SimulatedNode::hasJoined).toList();
      SimulatedNode victim = members.get(choose.nextInt(members.size()));
      log.append(", crash of member ")
          .append(victim.name())
          .append(" at ")
          .append(sim.loop().now() / Simulation.MILLISECOND)
          .append(" ms");
      sim.crash(victim);
    }

    boolean allJoined =
        sim.runUntil(
            () ->
                sim.loop().now() > lastStart
                    && sim.live().stream()
                        .filter(node -> node.excluded() == null)
                        .allMatch(SimulatedNode::hasJoined),
            Duration.ofSeconds(300));
    if (!allJoined) {
      return log
          + ": not every live node joined within 300 s; waiting: "
          + sim.live().stream()
              .filter(node -> node.excluded() == null && !node.hasJoined())
              .map(node -> node.name() + " " + node.protocol().notReadyReason(node.now()))
              .toList();
    }
    List<String> clusters = sim.clusterViolations();
    if (!clusters.isEmpty()) {
      return log + ": " + sim.describe(clusters) + "; " + membership(sim);
    }
    if (!sim.runUntilConverged(Duration.ofSeconds(120))) {
      return log + ": " + sim.describe(sim.convergenceViolations());
    }
    return sim.violations().isEmpty()
        ? null
        : log + ": " + sim.describe(sim.violations()) + "; " + membership(sim);
  }

  /** Who is in which cluster, and who founded it: for the reader of a failure. */
  private static String membership(Simulation sim) {
    return sim.nodes().stream()
        .filter(SimulatedNode::hasJoined)
        .sorted(Comparator.comparing(SimulatedNode::clusterId))
        .collect(
            Collectors.groupingBy(
                SimulatedNode::clusterId,
                Collectors.mapping(
                    node -> node.name() + (node.live() ? "" : " (" + node.life() + ")"),
                    Collectors.toList())))
        .toString();
  }
}
