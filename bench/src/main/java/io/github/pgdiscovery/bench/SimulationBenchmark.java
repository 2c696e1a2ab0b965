package io.github.pgdiscovery.bench;

import io.github.pgdiscovery.simulation.SimulatedNode;
import io.github.pgdiscovery.simulation.Simulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol on the simulated PostgreSQL (src/test/.../simulation, from the library's test-jar):
 * what the database pays per join, per database restart and per second in steady state, at sizes no
 * real run on this machine reaches; and, at the sizes the real benchmarks ran, the same counts side
 * by side with theirs.
 */
final class SimulationBenchmark {

  private static final Logger log = LoggerFactory.getLogger(SimulationBenchmark.class);
  private static final String SERVICE = "bench";
  private static final long SEED = 20_251_122L;

  /** Above this size all residents but {@link #REAL_RESIDENTS} are passive members. */
  private static final int FULL_MODEL_MAX = 1000;

  /**
   * The residents that run the protocol in a large simulation: the responders of every attempt, and
   * more.
   */
  private static final int REAL_RESIDENTS = 50;

  record Row(
      int n,
      boolean sampled,
      int joins,
      double notificationsPerJoin,
      double wakeUpsPerJoin,
      double restartNotifications,
      double restartWakeUps,
      double notificationsPerSecond,
      double wakeUpsPerSecond,
      double wallSeconds,
      long events) {}

  record Mirror(
      int n,
      String announcing,
      double notificationsPerSecond,
      double commitsPerSecond,
      double wallSeconds) {}

  /**
   * N nodes started at once: until every node is ready (and, in the full model, every view is the
   * live set).
   */
  record ColdStart(
      int n,
      double notifications,
      double wakeUps,
      double virtualSeconds,
      double wallSeconds,
      java.util.Map<String, Long> byType) {}

  String run(
      int[] sizes,
      int joinsPerSize,
      Duration window,
      int[] mirrorSizes,
      Duration mirrorWindow,
      int[] coldStartSizes) {
    List<Row> rows = new ArrayList<>();
    for (int n : sizes) {
      rows.add(measure(n, joinsPerSize, window));
    }
    List<ColdStart> coldStarts = new ArrayList<>();
    for (int n : coldStartSizes) {
      coldStarts.add(coldStart(n));
    }
    List<Mirror> mirrors = new ArrayList<>();
    for (int n : mirrorSizes) {
      mirrors.add(costMirror(n, Duration.ofSeconds(5), Duration.ofSeconds(5), mirrorWindow));
      mirrors.add(costMirror(n, Duration.ofSeconds(5), Duration.ofSeconds(30), mirrorWindow));
    }
    return markdown(rows, window, mirrors, mirrorWindow) + coldStartMarkdown(coldStarts);
  }

  /**
   * N nodes started at the same instant (each within its connection latency), none joined: counted
   * until every node is ready and nothing is in flight, then every view is checked to be the live
   * set. Always the full model: nobody is passive in a cold start, so the size is bounded by memory
   * (N² table entries).
   */
  ColdStart coldStart(int n) {
    long started = System.nanoTime();
    Simulation sim =
        new Simulation(
            new Simulation.Config(SEED + 7 * n)
                .settings(
                    s ->
                        s.maxPeersPerService(Math.max(1024, n + 64))
                            .connectTimeout(Duration.ofSeconds(15))));
    long from = sim.loop().now();
    List<SimulatedNode> nodes = sim.startMany(SERVICE, n, Duration.ZERO);
    require(
        sim.runUntil(
            () -> nodes.stream().allMatch(SimulatedNode::isReady) && sim.quiet(),
            Duration.ofSeconds(300)),
        sim,
        "all ready after a cold start of " + n);
    double virtual = (sim.loop().now() - from) / 1e9;
    require(sim.convergenceViolations().isEmpty(), sim, "views agree after the cold start");
    require(sim.violations().isEmpty(), sim, "no violation");
    Simulation.Counts counts = sim.counts();
    ColdStart row =
        new ColdStart(
            n,
            counts.notifications(),
            counts.wakeUps(),
            virtual,
            (System.nanoTime() - started) / 1e9,
            counts.sentByType());
    log.info("simulation cold start {}", row);
    return row;
  }

  private static String coldStartMarkdown(List<ColdStart> rows) {
    if (rows.isEmpty()) {
      return "";
    }
    StringBuilder md =
        new StringBuilder(
            "\n**Cold start**: N nodes started at the same instant on an empty "
                + "channel, none joining, counted until every node is ready and nothing is in flight (virtual time: from "
                + "the start to then), and every view checked to be all N. The first node by host and port asks "
                + "everybody; the answers go on the channel, and every node still waiting for a view takes them as its "
                + "own, so few rosters are sent. "
                + "Always the full model (nobody is passive in a cold start), so N is bounded by memory: N² table entries, "
                + "about 0.7 GB of heap per 10^6: N = 3,000 (`--simulation-cold-start-sizes 100,1000,3000`) needs "
                + "`BENCH_JAVA_OPTS=-Xmx16g` and minutes of one thread.\n\n");
    md.append(
        "| N | notifications | per node | of which announce / probe / roster | wake-ups | virtual time "
            + "| wall time |\n");
    md.append("|---:|---:|---:|---|---:|---:|---:|\n");
    for (ColdStart row : rows) {
      md.append("| ")
          .append(String.format(Locale.ROOT, "%,d", row.n()))
          .append(" | ")
          .append(count(row.notifications()))
          .append(" | ")
          .append(count(row.notifications() / row.n()))
          .append(" | ")
          .append(row.byType().getOrDefault("Announce", 0L))
          .append(" / ")
          .append(row.byType().getOrDefault("Probe", 0L))
          .append(" / ")
          .append(row.byType().getOrDefault("Roster", 0L))
          .append(" | ")
          .append(count(row.wakeUps()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.2f s", row.virtualSeconds()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.1f s", row.wallSeconds()))
          .append(" |\n");
    }
    return md.toString();
  }

  /**
   * N - 1 residents, joined; joiners one at a time; one database restart; a steady-state window.
   */
  Row measure(int n, int joins, Duration window) {
    long started = System.nanoTime();
    boolean sampled = n > FULL_MODEL_MAX;
    Simulation sim =
        new Simulation(
            new Simulation.Config(SEED + n)
                .joinAfterReady(Duration.ofSeconds(1))
                .settings(s -> s.maxPeersPerService(Math.max(1024, n + 64))));
    // Setting the residents up is not what is measured: no loop over every listener per commit
    // meanwhile.
    sim.db().countWakeUps(false);
    int real = sampled ? REAL_RESIDENTS : n - 1;
    List<SimulatedNode> residents =
        sim.startMany(SERVICE, real, Duration.ofMillis(Math.min(10_000, 2L * real)));
    require(
        sim.runUntil(
            () -> residents.stream().allMatch(SimulatedNode::isReady), Duration.ofSeconds(120)),
        sim,
        "residents ready");
    sim.run(Duration.ofSeconds(8)); // joined, and every heartbeat since states the joined interval
    if (sampled) {
      sim.addPassiveMembers(SERVICE, n - 1 - real);
      sim.run(Duration.ofSeconds(1));
      int expected = n - 1;
      require(
          residents.stream().allMatch(r -> r.lookup().orElseThrow().size() == expected),
          sim,
          "every real resident lists all " + expected + " residents");
    }
    sim.db().countWakeUps(true);

    double notifications = 0;
    double wakeUps = 0;
    for (int j = 0; j < joins; j++) {
      Simulation.Counts before = sim.counts();
      SimulatedNode joiner = sim.start(SERVICE);
      require(
          sim.runUntil(() -> joiner.isReady() && sim.quiet(), Duration.ofSeconds(10)),
          sim,
          "joiner ready");
      if (!sampled) {
        require(sim.convergenceViolations().isEmpty(), sim, "views agree after join " + j);
      } else {
        require(joiner.lookup().orElseThrow().size() == n, sim, "joiner sees all " + n);
      }
      Simulation.Counts join = sim.counts().minus(before);
      notifications += join.notifications();
      wakeUps += join.wakeUps();
      sim.shutdown(joiner);
      sim.run(Duration.ofSeconds(1));
    }

    Simulation.Counts beforeSteady = sim.counts();
    sim.run(window);
    Simulation.Counts steady = sim.counts().minus(beforeSteady);

    double restartNotifications = Double.NaN;
    double restartWakeUps = Double.NaN;
    if (!sampled) {
      Simulation.Counts beforeRestart = sim.counts();
      long restartedAt = sim.loop().now();
      sim.restartDatabase(Duration.ofSeconds(1));
      require(
          sim.runUntil(
              () ->
                  sim.live().stream()
                          .allMatch(node -> node.isReady() && node.connectedSince() > restartedAt)
                      && sim.quiet(),
              Duration.ofSeconds(120)),
          sim,
          "ready after the restart");
      Simulation.Counts restart = sim.counts().minus(beforeRestart);
      require(sim.convergenceViolations().isEmpty(), sim, "views agree after the restart");
      restartNotifications = restart.notifications();
      restartWakeUps = restart.wakeUps();
    }
    require(sim.violations().isEmpty(), sim, "no violation");
    double wall = (System.nanoTime() - started) / 1e9;
    double seconds = window.toNanos() / 1e9;
    Row row =
        new Row(
            n,
            sampled,
            joins,
            notifications / joins,
            wakeUps / joins,
            restartNotifications,
            restartWakeUps,
            steady.notifications() / seconds,
            steady.wakeUps() / seconds,
            wall,
            sim.loop().executed());
    log.info("simulation {}", row);
    return row;
  }

  /**
   * DatabaseCostBenchmark's procedure on the simulator: heartbeat-only participants, all ready, one
   * heartbeat, joined, 1.2 heartbeats more, then a window of at least two joined intervals. Commits
   * as pg_stat_database counts them: one per NOTIFY and one per backend read (wake-up).
   */
  Mirror costMirror(int n, Duration heartbeat, Duration joinedHeartbeat, Duration window) {
    long started = System.nanoTime();
    Simulation sim =
        new Simulation(
            new Simulation.Config(SEED - n)
                .protocol(HeartbeatOnlyProtocol::new)
                .settings(
                    s ->
                        s.timings(heartbeat, heartbeat.multipliedBy(3))
                            .joinedHeartbeatInterval(joinedHeartbeat)
                            .connectTimeout(Duration.ofSeconds(15))));
    List<SimulatedNode> nodes = sim.startMany("cost", n, Duration.ofMillis(20L * n));
    require(
        sim.runUntil(
            () -> nodes.stream().allMatch(SimulatedNode::isReady), Duration.ofSeconds(120)),
        sim,
        "cost participants ready");
    sim.run(heartbeat.multipliedBy(11).dividedBy(10));
    nodes.forEach(SimulatedNode::joined);
    sim.run(heartbeat.multipliedBy(12).dividedBy(10));
    Duration measured =
        window.compareTo(joinedHeartbeat.multipliedBy(2)) >= 0
            ? window
            : joinedHeartbeat.multipliedBy(2);
    Simulation.Counts before = sim.counts();
    sim.run(measured);
    Simulation.Counts during = sim.counts().minus(before);
    require(sim.violations().isEmpty(), sim, "no violation");
    double seconds = measured.toNanos() / 1e9;
    String announcing =
        joinedHeartbeat.equals(heartbeat)
            ? "one rate, every " + heartbeat.toSeconds() + " s"
            : "joined slower, every "
                + heartbeat.toSeconds()
                + " s then "
                + joinedHeartbeat.toSeconds()
                + " s";
    Mirror mirror =
        new Mirror(
            n,
            announcing,
            during.notifications() / seconds,
            (during.notifications() + during.wakeUps() + during.listens()) / seconds,
            (System.nanoTime() - started) / 1e9);
    log.info("simulation mirror {}", mirror);
    return mirror;
  }

  private static void require(boolean ok, Simulation sim, String what) {
    if (!ok) {
      throw new IllegalStateException(
          sim.describe(sim.violations())
              + "; failed: "
              + what
              + "; "
              + sim.describe(sim.convergenceViolations()));
    }
  }

  private static String markdown(
      List<Row> rows, Duration window, List<Mirror> mirrors, Duration mirrorWindow) {
    StringBuilder md = new StringBuilder();
    md.append(
            "The protocol (probe answered by two responders' rosters, the library's defaults: heartbeats every 5 s ")
        .append("until joined, then silent) ")
        .append(
            "on the simulator in src/test/java/io/github/pgdiscovery/simulation: N real `DiscoveryProtocol` ")
        .append(
            "instances driven single-threaded in virtual time against a model of PostgreSQL 14 to 18 ")
        .append(
            "LISTEN/NOTIFY (one commit-ordered queue; a listener gets what commits after its LISTEN; every ")
        .append(
            "NOTIFY commit wakes every listening backend of the database, whatever the channel, and each ")
        .append(
            "woken backend reads the queue in a transaction of its own; signals to a backend not yet reading ")
        .append("coalesce; latencies of 0.3 to 1.5 ms per leg, no CPU contention). Seed ")
        .append(SEED)
        .append(" + N. N - 1 residents start and join their cluster (1 s after ready); then ")
        .append(
            "*per join*: a new node starts, counted from its start until it is ready and nothing is in ")
        .append(
            "flight (it says goodbye afterwards, outside the count), mean over the joins; *steady*: a window ")
        .append("of ")
        .append(window.toSeconds())
        .append(" s with everybody joined; *per restart*: PostgreSQL ")
        .append(
            "restarts (1 s down, every connection dropped), counted until every node is ready again and ")
        .append(
            "nothing is in flight. *Notifications* = NOTIFY commits; *wake-ups* = backend reads of the queue ")
        .append(
            "(what pg_stat_database counts as commits besides the NOTIFYs). Wall time = the whole ")
        .append(
            "simulation of that N on this machine (set-up, joins, window, restart), one thread.\n\n")
        .append("Up to N = ")
        .append(FULL_MODEL_MAX)
        .append(" the model is complete: every notification reaches ")
        .append(
            "every listener it would reach, and after each join and the restart every node's view is checked ")
        .append(
            "to be the live set. Above, a full model does not fit in memory (every node holds every other: N² ")
        .append("table entries, about 70 GB at N = 10,000), so ")
        .append(REAL_RESIDENTS)
        .append(" residents run ")
        .append(
            "the protocol (the responders of every attempt among them) and the others are passive members: ")
        .append(
            "each listens on the channel, so that every commit wakes it and is counted, announced once that its ")
        .append(
            "cluster watches it, is Up for every member, and reads nothing. A member that does not answer a ")
        .append(
            "probe sends nothing while a node joins, so the per-join and steady-state counts are those of N ")
        .append(
            "real members (SimulationTest checks them against real members at N = 200), and the joiner's view ")
        .append(
            "is checked to hold all N. A restart is not simulated at that size (passive members do not ")
        .append(
            "reconnect); the row gives the bound for members whose views agree: N announcements + N probes + 2N ")
        .append("empty rosters, each waking all N backends.\n\n");
    md.append(
            "| N | model | joins | notifications per join | wake-ups per join (bound: notifications x N) ")
        .append("| notifications per restart ")
        .append(
            "| wake-ups per restart | notifications/s steady | wake-ups/s steady | wall time |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row row : rows) {
      String restartN = count(row.restartNotifications());
      String restartW = count(row.restartWakeUps());
      if (row.sampled()) {
        double n = row.n();
        double bound = 4 * n;
        restartN = "not simulated; ≤ " + count(bound);
        restartW = "not simulated; ≤ " + count(bound * n);
      }
      md.append("| ")
          .append(String.format(Locale.ROOT, "%,d", row.n()))
          .append(" | ")
          .append(row.sampled() ? REAL_RESIDENTS + " real, the rest passive" : "full")
          .append(" | ")
          .append(row.joins())
          .append(" | ")
          .append(count(row.notificationsPerJoin()))
          .append(" | ")
          .append(count(row.wakeUpsPerJoin()))
          .append(" (")
          .append(count(row.notificationsPerJoin() * row.n()))
          .append(") | ")
          .append(restartN)
          .append(" | ")
          .append(restartW)
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.1f", row.notificationsPerSecond()))
          .append(" | ")
          .append(count(row.wakeUpsPerSecond()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.1f s", row.wallSeconds()))
          .append(" |\n");
    }
    if (!mirrors.isEmpty()) {
      md.append(
              "\nThe simulator against the real thing: the procedure of *Database cost in steady state* ")
          .append("(heartbeat-only participants, 5 s, joined after one heartbeat, window ")
          .append(mirrorWindow.toSeconds())
          .append(" s or two joined intervals) run on the simulator. ")
          .append(
              "*Commits/s* on the simulator = NOTIFY commits + wake-ups + LISTENs; the real column is ")
          .append("pg_stat_database.xact_commit. The real figures are the cost benchmark's ")
          .append("comparison rows at the same N (`--cost-comparison-sizes`).\n\n");
      md.append(
          "| N | announcing | simulated notifications/s | simulated commits/s | wall time |\n");
      md.append("|---:|---|---:|---:|---:|\n");
      for (Mirror m : mirrors) {
        md.append("| ")
            .append(m.n())
            .append(" | ")
            .append(m.announcing())
            .append(" | ")
            .append(String.format(Locale.ROOT, "%.1f", m.notificationsPerSecond()))
            .append(" | ")
            .append(String.format(Locale.ROOT, "%.1f", m.commitsPerSecond()))
            .append(" | ")
            .append(String.format(Locale.ROOT, "%.1f s", m.wallSeconds()))
            .append(" |\n");
      }
    }
    return md.toString();
  }

  private static String count(double value) {
    return value >= 100
        ? String.format(Locale.ROOT, "%,.0f", value)
        : String.format(Locale.ROOT, "%.1f", value);
  }
}
