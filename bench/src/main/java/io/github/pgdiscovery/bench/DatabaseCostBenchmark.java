package io.github.pgdiscovery.bench;

import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.EngineObserver;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the database pays in steady state: N participants that have all found each other, measured
 * over a window: server connections per participant, notifications and commits a second, and the
 * server's CPU time.
 */
final class DatabaseCostBenchmark {

  private static final Logger log = LoggerFactory.getLogger(DatabaseCostBenchmark.class);

  /**
   * The participants' sessions: engines built without an adapter connect under the core's neutral
   * name.
   */
  private static final String APPLICATION_NAME = DiscoverySettings.Naming.NEUTRAL.applicationName();

  /** One steady-state measurement. */
  record Row(
      int participants,
      Duration heartbeat,
      Duration joinedHeartbeat,
      Duration connectionCheck,
      double connectionsPerParticipant,
      double notifiesPerSecond,
      double commitsPerSecond,
      double cpuPercentOfOneCore,
      int smallestTable) {

    /**
     * What the steady state should send: every participant announces once per (joined) interval.
     */
    double expectedNotifiesPerSecond() {
      return joinedHeartbeat.isZero() ? 0 : participants / (joinedHeartbeat.toMillis() / 1000.0);
    }
  }

  private final BenchDatabase db;

  DatabaseCostBenchmark(BenchDatabase db) {
    this.db = db;
  }

  /**
   * First the server with no participant at all (what an idle server costs by itself); then for
   * each size: if {@code oneRate}, every participant announcing at {@code heartbeat} throughout
   * (the protocol before joined nodes slowed down), then participants that have joined announcing
   * at each of {@code joinedHeartbeats}, each with every one of {@code connectionChecks}.
   */
  String run(
      int[] sizes,
      boolean oneRate,
      Duration heartbeat,
      List<Duration> joinedHeartbeats,
      List<Duration> connectionChecks,
      Duration window)
      throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.add(idle(window));
    for (int n : sizes) {
      if (oneRate) {
        rows.add(measure(n, heartbeat, heartbeat, connectionChecks.get(0), window));
      }
      for (Duration joined : joinedHeartbeats) {
        for (Duration check : connectionChecks) {
          rows.add(measure(n, heartbeat, joined, check, window));
        }
      }
    }
    return markdown(rows, window);
  }

  /**
   * The server's own CPU with nobody connected but the benchmark: the floor under every other row.
   */
  private Row idle(Duration window) throws Exception {
    long commitsBefore = commits();
    OptionalLong cpuBefore = db.serverCpuTicks();
    long started = System.nanoTime();
    Thread.sleep(window.toMillis());
    double seconds = (System.nanoTime() - started) / 1e9;
    OptionalLong cpuAfter = db.serverCpuTicks();
    long commitsAfter = commits();
    Row row =
        new Row(
            0,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ZERO,
            0,
            0,
            (commitsAfter - commitsBefore) / seconds,
            cpuPercent(cpuBefore, cpuAfter, seconds),
            0);
    log.info("{}", row);
    return row;
  }

  Row measure(
      int n,
      Duration heartbeat,
      Duration joinedHeartbeat,
      Duration connectionCheck,
      Duration window)
      throws Exception {
    String channel =
        "bench_cost_"
            + n
            + "_"
            + joinedHeartbeat.toSeconds()
            + "_"
            + Long.toHexString(System.nanoTime());
    // Heartbeat-only: the steady state is the same as with probing (probes go out only on connect),
    // and hundreds
    // of participants probing at start-up swamp a small machine for minutes (see the convergence
    // section).
    DiscoverySettings settings =
        DiscoverySettings.builder(db.url())
            .user(db.user())
            .password(db.password())
            .channel(channel)
            .timings(heartbeat, heartbeat.multipliedBy(3))
            .joinedHeartbeatInterval(joinedHeartbeat)
            // Hundreds of connections opening at once on a small machine: allow them time.
            .connectTimeout(Duration.ofSeconds(15))
            .connectionCheckInterval(connectionCheck)
            .build();
    // Joined heartbeats off is the library's own protocol (rosters, silence once joined); with a
    // joined interval,
    // the steady state is that of heartbeats only.
    DiscoveryProtocol.Mode mode =
        joinedHeartbeat.isZero()
            ? DiscoveryProtocol.Mode.PROBE_AND_REPLY
            : DiscoveryProtocol.Mode.HEARTBEAT_ONLY;
    List<DiscoveryEngine> engines = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        DiscoveryEngine engine =
            new DiscoveryEngine(
                settings,
                new Announcement(
                    "cost",
                    "127.0.0.1",
                    40_000 + i,
                    "akka://cost@127.0.0.1:" + (50_000 + i),
                    i,
                    UUID.randomUUID().toString()),
                EngineObserver.NONE,
                mode);
        engines.add(engine);
        engine.start();
        if ((i + 1) % 25 == 0) {
          awaitReady(engines);
        }
      }
      awaitReady(engines);
      // Everybody has heard everybody after one heartbeat; then they join their cluster, as Akka's
      // MemberUp tells a
      // real node, and switch at their next heartbeat, which states the new interval.
      Thread.sleep(heartbeat.multipliedBy(11).dividedBy(10).toMillis());
      ConvergenceBenchmark.formCluster(engines);
      Thread.sleep(heartbeat.multipliedBy(12).dividedBy(10).toMillis());

      // Everybody switched within one heartbeat, so their joined heartbeats come in bursts: average
      // over two.
      Duration measured =
          window.compareTo(joinedHeartbeat.multipliedBy(2)) >= 0
              ? window
              : joinedHeartbeat.multipliedBy(2);
      long connections =
          db.queryLong(
              "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                  + APPLICATION_NAME
                  + "'");
      long sentBefore = sent(engines);
      long commitsBefore = commits();
      OptionalLong cpuBefore = db.serverCpuTicks();
      long started = System.nanoTime();
      Thread.sleep(measured.toMillis());
      double seconds = (System.nanoTime() - started) / 1e9;
      long sentAfter = sent(engines);
      OptionalLong cpuAfter = db.serverCpuTicks();
      long commitsAfter = commits();
      // Nobody dropped a peer that announces less often: every table still holds everybody else.
      int smallestTable =
          engines.stream().mapToInt(engine -> engine.status().peers().size()).min().orElse(0);

      Row row =
          new Row(
              n,
              heartbeat,
              joinedHeartbeat,
              connectionCheck,
              (double) connections / n,
              (sentAfter - sentBefore) / seconds,
              (commitsAfter - commitsBefore) / seconds,
              cpuPercent(cpuBefore, cpuAfter, seconds),
              smallestTable);
      log.info("{}", row);
      return row;
    } finally {
      engines.forEach(DiscoveryEngine::shutdown);
      engines.forEach(DiscoveryEngine::close);
    }
  }

  /** Clock ticks (1/100 s) to a share of one core. */
  private static double cpuPercent(OptionalLong before, OptionalLong after, double seconds) {
    return before.isPresent() && after.isPresent()
        ? (after.getAsLong() - before.getAsLong()) / 100.0 / seconds * 100
        : Double.NaN;
  }

  /**
   * Backends report to pg_stat_database shortly after their transactions: good enough over a long
   * window.
   */
  private long commits() throws Exception {
    return db.queryLong(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
  }

  private static long sent(List<DiscoveryEngine> engines) {
    return engines.stream().mapToLong(engine -> engine.status().sent()).sum();
  }

  private static void awaitReady(List<DiscoveryEngine> engines) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (!engines.stream().allMatch(DiscoveryEngine::isReady)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("participants not ready within 120 s");
      }
      Thread.sleep(20);
    }
  }

  private String markdown(List<Row> rows, Duration window) {
    StringBuilder md = new StringBuilder();
    md.append("Steady state, all participants found each other and joined, measured over ")
        .append(window.toSeconds())
        .append(" s or two joined intervals, whichever is longer. Each size at least ")
        .append(
            "twice: *one rate*, every participant announcing every heartbeat throughout (the protocol before ")
        .append(
            "joined intervals); *joined slower*, participants announcing at `joined-heartbeat-interval` once ")
        .append(
            "joined; *silent once joined*, `joined-heartbeat-interval = off` (the default): the library's own ")
        .append(
            "protocol, each participant told of the others' MemberUp as Akka would. Connections from ")
        .append("`pg_stat_activity` (application_name `")
        .append(APPLICATION_NAME)
        .append("`); with a joined ")
        .append(
            "interval participants run heartbeat-only, which in steady state sends what the protocol sends; ")
        .append("notifications counted by the participants; commits from ")
        .append(
            "`pg_stat_database.xact_commit` (every `pg_notify` runs in its own transaction, and each listening ")
        .append(
            "backend reads notifications in one of its own); CPU time of the postmaster and all its children ")
        .append(
            "from /proc, as a share of one core; *smallest table* is the fewest peers any participant listed at ")
        .append(
            "the end (N - 1 means nobody dropped anybody); *connection check*: `connection-check-interval`, ")
        .append(
            "the round trip each connection makes when it has sent nothing for that long (it wakes nobody). ")
        .append(
            "The first row is the server with nobody connected but the benchmark's own session: the floor under ")
        .append(
            "the others. Target: 1 connection per participant, no notifications once joined, CPU under 2% of ")
        .append("one core at N = 500.\n\n");
    md.append(
        "| N | announcing | connection check | connections per participant | notifications/s (expected) "
            + "| commits/s | PostgreSQL CPU, % of one core | smallest table |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (Row row : rows) {
      if (row.participants() == 0) {
        md.append("| 0 | nobody connected (idle server) | | | | ")
            .append(String.format("%.1f", row.commitsPerSecond()))
            .append(" | ")
            .append(cpu(row))
            .append(" | |\n");
        continue;
      }
      String announcing =
          row.joinedHeartbeat().isZero()
              ? "every " + seconds(row.heartbeat()) + ", then silent once joined (off, the default)"
              : row.joinedHeartbeat().equals(row.heartbeat())
                  ? "one rate, every " + seconds(row.heartbeat())
                  : "joined slower, every "
                      + seconds(row.heartbeat())
                      + " then "
                      + seconds(row.joinedHeartbeat());
      md.append("| ")
          .append(row.participants())
          .append(" | ")
          .append(announcing)
          .append(" | ")
          .append(seconds(row.connectionCheck()))
          .append(" | ")
          .append(String.format("%.2f", row.connectionsPerParticipant()))
          .append(" | ")
          .append(
              String.format(
                  "%.1f (%.1f)", row.notifiesPerSecond(), row.expectedNotifiesPerSecond()))
          .append(" | ")
          .append(String.format("%.1f", row.commitsPerSecond()))
          .append(" | ")
          .append(cpu(row))
          .append(" | ")
          .append(row.smallestTable())
          .append(" |\n");
    }
    return md.toString();
  }

  private static String cpu(Row row) {
    return Double.isNaN(row.cpuPercentOfOneCore())
        ? "n/a (external server)"
        : String.format("%.1f", row.cpuPercentOfOneCore());
  }

  private static String seconds(Duration duration) {
    return duration.toMillis() % 1000 == 0
        ? duration.toSeconds() + " s"
        : duration.toMillis() + " ms";
  }
}
