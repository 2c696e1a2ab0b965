package io.github.pgdiscovery.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Announcement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Limits of discovery over one channel, shown as they are on the simulated PostgreSQL (see {@code
 * SuspectedDefectsTest} in the core module for the protocol-level ones).
 */
final class SuspectedDefectsSimulationTest {

  private static final String SERVICE = "orders";

  private static Set<String> endpoints(List<Announcement> view) {
    return view.stream().map(Announcement::endpoint).collect(Collectors.toSet());
  }

  /**
   * A formed cluster of three whose members all lose the database (their connections stall) while
   * the cluster itself carries on. Two newcomers start meanwhile: nobody answers their probes, so
   * they ask everybody, hear only each other, and become ready on that view within about a second.
   * Cluster Bootstrap on them sees two contact points and no cluster, and may form a second one.
   * The members come back on new connections after about connection-check-interval +
   * connect-timeout, announce, and only then do the newcomers list them.
   */
  @Test
  void whenEveryMemberIsOffTheDatabaseNewcomersBecomeReadySeeingOnlyEachOther() {
    Simulation sim = new Simulation(new Simulation.Config(61).joinAfterReady(Duration.ZERO));
    List<SimulatedNode> members = sim.startMany(SERVICE, 3, Duration.ofSeconds(1));
    assertTrue(
        sim.runUntilConverged(Duration.ofSeconds(10)), sim.describe(sim.convergenceViolations()));
    assertTrue(members.stream().allMatch(SimulatedNode::hasJoined));
    sim.run(Duration.ofSeconds(1));

    members.forEach(sim::stall);
    long stalledAt = sim.loop().now();
    SimulatedNode first = sim.create(SERVICE).staysOut();
    SimulatedNode second = sim.create(SERVICE).staysOut();
    sim.start(first);
    sim.start(second);
    assertTrue(
        sim.runUntil(() -> first.isReady() && second.isReady(), Duration.ofSeconds(3)),
        "seed 61: the newcomers become ready");

    Set<String> newcomers = Set.of(first.self().endpoint(), second.self().endpoint());
    assertEquals(newcomers, endpoints(first.lookup().orElseThrow()), "seed 61: first's view");
    assertEquals(newcomers, endpoints(second.lookup().orElseThrow()), "seed 61: second's view");
    assertTrue(
        members.stream().allMatch(m -> m.live() && m.hasJoined() && m.stalled()),
        "seed 61: the members are still members, still off the database");
    assertTrue(
        sim.violations().isEmpty(),
        "seed 61: the simulator's readiness check leaves stalled nodes out: " + sim.violations());

    Set<String> everybody =
        Set.of(
            first.self().endpoint(),
            second.self().endpoint(),
            members.get(0).self().endpoint(),
            members.get(1).self().endpoint(),
            members.get(2).self().endpoint());
    assertTrue(
        sim.runUntil(
            () -> endpoints(first.lookup().orElseThrow()).equals(everybody),
            Duration.ofSeconds(30)),
        "seed 61: the newcomers list the members once they are back");
    long back = sim.loop().now() - stalledAt;
    assertTrue(
        back > Duration.ofSeconds(5).toNanos(),
        "seed 61: the members were unheard for " + back / 1_000_000 + " ms");
  }
}
