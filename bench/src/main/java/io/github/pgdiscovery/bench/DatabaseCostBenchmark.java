package io.github.pgdiscovery.bench;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.EngineObserver;
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
 * What the database pays in steady state: N participants that have all found each other, measured over a window:
 * server connections per participant, notifications and commits a second, and the server's CPU time.
 */
final class DatabaseCostBenchmark {

  private static final Logger log = LoggerFactory.getLogger(DatabaseCostBenchmark.class);
  /** The participants' sessions: engines built without an adapter connect under the core's neutral name. */
  private static final String APPLICATION_NAME = DiscoverySettings.Naming.NEUTRAL.applicationName();

  /** One steady-state measurement. */
  record Row(int participants, Duration heartbeat, Duration joinedHeartbeat, double connectionsPerParticipant,
      double notifiesPerSecond, double commitsPerSecond, double cpuPercentOfOneCore, int smallestTable) {

    /** What the steady state should send: every participant announces once per (joined) interval. */
    double expectedNotifiesPerSecond() {
      return joinedHeartbeat.isZero() ? 0 : participants / (joinedHeartbeat.toMillis() / 1000.0);
    }
  }

  private final BenchDatabase db;

  DatabaseCostBenchmark(BenchDatabase db) {
    this.db = db;
  }

  /**
   * For each size: every participant announcing at {@code heartbeat} throughout (the protocol before joined nodes
   * slowed down), then participants that have joined announcing at each of {@code joinedHeartbeats}.
   */
  String run(int[] sizes, Duration heartbeat, List<Duration> joinedHeartbeats, Duration window) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (int n : sizes) {
      rows.add(measure(n, heartbeat, heartbeat, window));
      for (Duration joined : joinedHeartbeats) {
        rows.add(measure(n, heartbeat, joined, window));
      }
    }
    return markdown(rows, window);
  }

  Row measure(int n, Duration heartbeat, Duration joinedHeartbeat, Duration window) throws Exception {
    String channel = "bench_cost_" + n + "_" + joinedHeartbeat.toSeconds() + "_" + Long.toHexString(System.nanoTime());
    // Heartbeat-only: the steady state is the same as with probing (probes go out only on connect), and hundreds
    // of participants probing at start-up swamp a small machine for minutes (see the convergence section).
    DiscoverySettings settings = DiscoverySettings.builder(db.url()).user(db.user()).password(db.password())
        .channel(channel)
        .timings(heartbeat, heartbeat.multipliedBy(3))
        .joinedHeartbeatInterval(joinedHeartbeat)
        // Hundreds of connections opening at once on a small machine: allow them time.
        .connectTimeout(Duration.ofSeconds(15)).connectionCheckInterval(Duration.ofSeconds(5))
        .build();
    // Joined heartbeats off is the library's own protocol (rosters, silence once joined); with a joined interval,
    // the steady state is that of heartbeats only.
    DiscoveryProtocol.Mode mode = joinedHeartbeat.isZero() ? DiscoveryProtocol.Mode.PROBE_AND_REPLY
        : DiscoveryProtocol.Mode.HEARTBEAT_ONLY;
    List<DiscoveryEngine> engines = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        DiscoveryEngine engine = new DiscoveryEngine(settings, new Announcement("cost", "127.0.0.1", 40_000 + i,
            "akka://cost@127.0.0.1:" + (50_000 + i), i, UUID.randomUUID().toString()), EngineObserver.NONE, mode);
        engines.add(engine);
        engine.start();
        if ((i + 1) % 25 == 0) {
          awaitReady(engines);
        }
      }
      awaitReady(engines);
      // Everybody has heard everybody after one heartbeat; then they join their cluster, as Akka's MemberUp tells a
      // real node, and switch at their next heartbeat, which states the new interval.
      Thread.sleep(heartbeat.multipliedBy(11).dividedBy(10).toMillis());
      ConvergenceBenchmark.formCluster(engines);
      Thread.sleep(heartbeat.multipliedBy(12).dividedBy(10).toMillis());

      // Everybody switched within one heartbeat, so their joined heartbeats come in bursts: average over two.
      Duration measured = window.compareTo(joinedHeartbeat.multipliedBy(2)) >= 0 ? window
          : joinedHeartbeat.multipliedBy(2);
      long connections = db.queryLong(
          "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + APPLICATION_NAME + "'");
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
      int smallestTable = engines.stream().mapToInt(engine -> engine.status().peers().size()).min().orElse(0);

      double cpu = cpuBefore.isPresent() && cpuAfter.isPresent()
          ? (cpuAfter.getAsLong() - cpuBefore.getAsLong()) / 100.0 / seconds * 100 : Double.NaN;
      Row row = new Row(n, heartbeat, joinedHeartbeat, (double) connections / n, (sentAfter - sentBefore) / seconds,
          (commitsAfter - commitsBefore) / seconds, cpu, smallestTable);
      log.info("{}", row);
      return row;
    } finally {
      engines.forEach(DiscoveryEngine::shutdown);
      engines.forEach(DiscoveryEngine::close);
    }
  }

  /** Backends report to pg_stat_database shortly after their transactions: good enough over a long window. */
  private long commits() throws Exception {
    return db.queryLong("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
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
        .append(window.toSeconds()).append(" s or two joined intervals, whichever is longer. Each size at least ")
        .append("twice: *one rate*, every participant announcing every heartbeat throughout (the protocol before ")
        .append("joined intervals); *joined slower*, participants announcing at `joined-heartbeat-interval` once ")
        .append("joined; *silent once joined*, `joined-heartbeat-interval = off` (the default): the library's own ")
        .append("protocol, each participant told of the others' MemberUp as Akka would. Connections from ")
        .append("`pg_stat_activity` (application_name `").append(APPLICATION_NAME).append("`); with a joined ")
        .append("interval participants run heartbeat-only, which in steady state sends what the protocol sends; ")
        .append("notifications counted by the participants; commits from ")
        .append("`pg_stat_database.xact_commit` (every `pg_notify` runs in its own transaction, and each listening ")
        .append("backend reads notifications in one of its own); CPU time of the postmaster and all its children ")
        .append("from /proc, as a share of one core; *smallest table* is the fewest peers any participant listed at ")
        .append("the end (N - 1 means nobody dropped anybody). Target: 1 connection per participant, at most ")
        .append("N / heartbeat-interval notifications a second, CPU under 10% of one core at N = 500.\n\n");
    md.append("| N | announcing | connections per participant | notifications/s (expected) | commits/s "
        + "| PostgreSQL CPU, % of one core | smallest table |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|\n");
    for (Row row : rows) {
      String announcing = row.joinedHeartbeat().isZero()
          ? "every " + seconds(row.heartbeat()) + ", then silent once joined (off, the default)"
          : row.joinedHeartbeat().equals(row.heartbeat())
          ? "one rate, every " + seconds(row.heartbeat())
          : "joined slower, every " + seconds(row.heartbeat()) + " then " + seconds(row.joinedHeartbeat());
      md.append("| ").append(row.participants()).append(" | ").append(announcing).append(" | ")
          .append(String.format("%.2f", row.connectionsPerParticipant())).append(" | ")
          .append(String.format("%.1f (%.1f)", row.notifiesPerSecond(), row.expectedNotifiesPerSecond()))
          .append(" | ").append(String.format("%.1f", row.commitsPerSecond())).append(" | ")
          .append(Double.isNaN(row.cpuPercentOfOneCore()) ? "n/a (external server)"
              : String.format("%.1f", row.cpuPercentOfOneCore()))
          .append(" | ").append(row.smallestTable()).append(" |\n");
    }
    return md.toString();
  }

  private static String seconds(Duration duration) {
    return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
  }
}
