package io.github.pgdiscovery.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults the first fault mix does not have, over many seeds in the normal run (a bounded stress
 * run; the long one is {@code SimulationStressTest}): a node's process paused for 0.1 to 2 s, whose
 * backlog then arrives all at once and late; one session dropped by the server alone
 * (pg_terminate_backend, idle_session_timeout, a TCP reset); and the unheard MemberUp of a member
 * of another service. With crashes, newcomers, database restarts and signed or unsigned messages;
 * half the seeds with tailed latencies and queued commits ({@link
 * Simulation.Config#tailedLatencies}), every seed with cluster events up to 3 s late at each node.
 * Every seed must converge to one view with no violation along the way.
 */
final class SurprisingFaultsTest {

  /**
   * Seeds of the mix with tailed latencies in which a node becomes ready without nodes that
   * announced before it listened, because an answer came later than the probe reply window allows
   * (a commit queued behind a stalled one, a retransmission). A limit of a timeout (see {@link
   * #withTailedLatenciesANodeMayBecomeReadyBeforeALateAnswerIsRead}), kept out of the main run. Six
   * more seeds (20009, 20136, 20315, 20458, 20631, 20907) were here while the engine's loop, back
   * from a send that waited behind a slow commit, ticked before reading what had reached its client
   * meanwhile; it reads first now, and they pass in the main run.
   */
  static final Set<Long> READY_BEFORE_A_LATE_ANSWER =
      Set.of(
          20_090L, 20_186L, 20_265L, 20_431L, 20_493L, 20_500L, 20_622L, 20_675L, 20_695L, 20_760L,
          20_796L, 20_809L, 20_844L, 20_857L, 20_905L, 20_982L);

  static LongStream seeds() {
    return LongStream.range(20_000, 21_000).filter(s -> !READY_BEFORE_A_LATE_ANSWER.contains(s));
  }

  static LongStream readyBeforeALateAnswer() {
    return READY_BEFORE_A_LATE_ANSWER.stream().mapToLong(Long::longValue).sorted();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void pausesSessionDropsAndUnheardMembersGiveOneViewAndNoViolation(long seed) {
    String problems = surprisingMix(seed);
    assertTrue(problems == null, problems);
  }

  /**
   * The tailed latencies really are late: over the first seeds of the mix, those with them deliver
   * some notifications later than the probe reply window (300 ms), those without none. Should the
   * mix become kind again, this fails.
   */
  @Test
  void theTailedLatenciesOfTheMixDeliverSomeNotificationsLaterThanTheReplyWindow() {
    long late = 0;
    long lateWithoutTails = 0;
    for (long seed = 20_000; seed < 20_020; seed++) {
      StringBuilder log = new StringBuilder();
      Simulation sim = run(seed, true, log);
      if (sim == null) {
        continue;
      }
      sim.runUntilConverged(Duration.ofSeconds(300));
      if (log.indexOf("tailed latencies") >= 0) {
        late += sim.lateDeliveries();
      } else {
        lateWithoutTails += sim.lateDeliveries();
      }
    }
    assertTrue(late > 0, "no notification was later than the reply window");
    assertEquals(0, lateWithoutTails, "late notifications with the uniform latencies");
  }

  /**
   * With tailed latencies a node may become ready while an answer to its probe is still on its way
   * or unread (see {@link #READY_BEFORE_A_LATE_ANSWER}); the node is in every view once it is read,
   * and nothing else goes wrong. Cluster Bootstrap's stable-margin waits for a contact point that
   * appears late, as for the paused node below.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("readyBeforeALateAnswer")
  void withTailedLatenciesANodeMayBecomeReadyBeforeALateAnswerIsRead(long seed) {
    StringBuilder log = new StringBuilder();
    Simulation sim = run(seed, true, log);

    assertTrue(sim != null, "seed " + seed + ": the cold start did not converge");
    assertTrue(
        sim.runUntilConverged(Duration.ofSeconds(300)),
        () -> log + ": " + sim.describe(sim.convergenceViolations()));
    assertTrue(log.indexOf("tailed latencies") >= 0, "seed " + seed + ": " + log);
    assertTrue(!sim.violations().isEmpty(), "seed " + seed + ": every node waited for its answers");
    assertTrue(
        sim.violations().stream().allMatch(v -> v.contains("became ready without")),
        () -> log + ": " + sim.describe(sim.violations()));
  }

  /**
   * Seed 20500 with cluster events 3 s late: a member reconnects and asks for views; a responder
   * that has not yet heard that another member is Up answers with that member's remaining expiry
   * (58 s). The member's own cluster has it Up, and so it must keep it until the cluster removes
   * it; it used to take the answer's expiry, lost the member when it ran out, and never heard of it
   * again (members are quiet).
   */
  @Test
  void aRosterFromAResponderThatHasNotHeardAMemberIsUpDoesNotShortenItsStay() {
    StringBuilder log = new StringBuilder();
    Simulation sim = run(20_500, true, false, Duration.ofSeconds(3), log);

    assertTrue(sim != null, "seed 20500: the cold start did not converge");
    assertTrue(
        sim.runUntilConverged(Duration.ofSeconds(300)),
        () -> log + ": " + sim.describe(sim.convergenceViolations()));
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
    return run(seed, afterColdStart, true, log);
  }

  /**
   * As above; {@code harsh}: half the seeds with tailed latencies and queued commits, and cluster
   * events up to 3 s late at each node. Drawn apart from the faults, so each seed's faults are the
   * same either way.
   */
  static Simulation run(long seed, boolean afterColdStart, boolean harsh, StringBuilder log) {
    SplittableRandom conditions = new SplittableRandom(-seed);
    boolean tailed = harsh && conditions.nextBoolean();
    Duration lag = harsh ? Duration.ofMillis(conditions.nextInt(3001)) : Duration.ZERO;
    return run(seed, afterColdStart, tailed, lag, log);
  }

  /** The mix of {@code seed} with these conditions. */
  static Simulation run(
      long seed, boolean afterColdStart, boolean tailed, Duration lag, StringBuilder log) {
    SplittableRandom choose = new SplittableRandom(seed);
    boolean signed = choose.nextBoolean();
    Simulation.Config config =
        new Simulation.Config(seed)
            .joinAfterReady(Duration.ofSeconds(1))
            .tcpTimeout(Duration.ofSeconds(30))
            .downAfter(Duration.ofSeconds(10))
            .membershipLag(lag)
            .settings(s -> signed ? s.sharedSecret("simulation-shared-secret-0123456789") : s);
    Simulation sim = new Simulation(tailed ? config.tailedLatencies() : config);
    sim.startMany("orders", 3 + choose.nextInt(12), Duration.ofMillis(choose.nextInt(3000)));
    if (afterColdStart && !sim.runUntilConverged(Duration.ofSeconds(60))) {
      return null;
    }
    log.append("signed=")
        .append(signed)
        .append(tailed ? ", tailed latencies" : "")
        .append(", membership lag ")
        .append(lag.toMillis())
        .append(" ms, faults");
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
    Simulation sim = run(seed, false, false, new StringBuilder());

    assertTrue(
        sim.runUntilConverged(Duration.ofSeconds(300)),
        () -> sim.describe(sim.convergenceViolations()));
    assertTrue(!sim.violations().isEmpty(), "the others waited for it after all");
    assertTrue(
        sim.violations().stream().allMatch(v -> v.contains("became ready without")),
        () -> sim.describe(sim.violations()));
  }
}
