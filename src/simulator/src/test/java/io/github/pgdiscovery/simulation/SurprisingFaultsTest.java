package io.github.pgdiscovery.simulation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults the first fault mix does not have, over many seeds in the normal run (a bounded stress
 * run; the long one is {@code SimulationStressTest}): a node's process paused for 0.1 to 2 s, whose
 * backlog then arrives all at once and late; one session dropped by the server alone
 * (pg_terminate_backend, idle_session_timeout, a TCP reset); and the unheard MemberUp of a member
 * of another service. With crashes, newcomers, database restarts and signed or unsigned messages.
 * Every seed must converge to one view with no violation along the way.
 */
final class SurprisingFaultsTest {

  static LongStream seeds() {
    return LongStream.range(20_000, 21_000);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void pausesSessionDropsAndUnheardMembersGiveOneViewAndNoViolation(long seed) {
    String problems = surprisingMix(seed);
    assertTrue(problems == null, problems);
  }

  /** Null when the nodes converged without a violation, else what went wrong. */
  static String surprisingMix(long seed) {
    StringBuilder log = new StringBuilder();
    Simulation sim = run(seed, true, log);
    if (sim == null) {
      return "seed " + seed + ": the cold start did not converge";
    }
    if (!sim.runUntilConverged(Duration.ofSeconds(300))) {
      return log + ": " + sim.describe(sim.convergenceViolations());
    }
    return sim.violations().isEmpty() ? null : log + ": " + sim.describe(sim.violations());
  }

  /**
   * The mix for one seed, faults from the start or ({@code afterColdStart}) once the first nodes
   * converged (null if they did not); {@code log} gets what was done.
   */
  static Simulation run(long seed, boolean afterColdStart, StringBuilder log) {
    SplittableRandom choose = new SplittableRandom(seed);
    boolean signed = choose.nextBoolean();
    Simulation sim =
        new Simulation(
            new Simulation.Config(seed)
                .joinAfterReady(Duration.ofSeconds(1))
                .tcpTimeout(Duration.ofSeconds(30))
                .downAfter(Duration.ofSeconds(10))
                .settings(s -> signed ? s.sharedSecret("simulation-shared-secret-0123456789") : s));
    sim.startMany("orders", 3 + choose.nextInt(12), Duration.ofMillis(choose.nextInt(3000)));
    if (afterColdStart && !sim.runUntilConverged(Duration.ofSeconds(60))) {
      return null;
    }
    log.append("signed=").append(signed).append(", faults");
    for (int step = 0; step < 8; step++) {
      sim.run(Duration.ofMillis(200 + choose.nextInt(15_000)));
      List<SimulatedNode> live = sim.live();
      SimulatedNode victim = live.isEmpty() ? null : live.get(choose.nextInt(live.size()));
      int fault = choose.nextInt(7);
      log.append(" ").append(fault);
      switch (fault) {
        case 0, 1 -> {
          if (victim != null) victim.pause(Duration.ofMillis(100 + choose.nextInt(1900)).toNanos());
        }
        case 2 -> {
          if (victim != null) victim.sessionDropped();
        }
        case 3 -> {
          for (SimulatedNode member : live) {
            member.memberUp("akka://orders@10.200.0." + step + ":25520", 4000 + step);
          }
        }
        case 4 -> {
          if (victim != null && live.size() > 1) sim.crash(victim);
        }
        case 5 -> sim.restartDatabase(Duration.ofMillis(100 + choose.nextInt(3000)));
        default ->
            sim.startMany("orders", 1 + choose.nextInt(3), Duration.ofMillis(choose.nextInt(500)));
      }
    }
    return sim;
  }

  /**
   * A limit the kinder simulator could not show (seeds 20110 and 20212 of the mix with faults from
   * the start): a node whose process pauses during a cold start, after it announced, answers the
   * probe of everybody late, so the others become ready without it. It is in every view once it
   * answers, and Bootstrap's stable-margin (5 s by default), which starts again when a contact
   * point appears, waits for it; a model of Bootstrap's decision would tell whether a second
   * cluster can form.
   */
  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.ValueSource(longs = {20_110, 20_212})
  void aNodePausedDuringAColdStartIsMissingFromTheFirstViewsAndInThemWhenItResumes(long seed) {
    Simulation sim = run(seed, false, new StringBuilder());

    assertTrue(
        sim.runUntilConverged(Duration.ofSeconds(300)),
        () -> sim.describe(sim.convergenceViolations()));
    assertTrue(!sim.violations().isEmpty(), "the others waited for it after all");
    assertTrue(
        sim.violations().stream().allMatch(v -> v.contains("became ready without")),
        () -> sim.describe(sim.violations()));
  }
}
