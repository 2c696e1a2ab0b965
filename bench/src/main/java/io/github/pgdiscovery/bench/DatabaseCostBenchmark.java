package io.github.pgdiscovery.bench;

import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.EngineObserver;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Protocol;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the database pays in steady state: N participants that have all found each other, measured
 * over a window: server connections per participant, notifications and commits a second, and the
 * server's CPU time. And what getting there cost: the participants are started in batches, and in
 * the library's default configuration each batch joins the modelled cluster once it is ready, as
 * nodes that joined one by one would; the start-up's duration, notifications, commits and server
 * CPU are reported too.
 */
final class DatabaseCostBenchmark {

  private static final Logger log = LoggerFactory.getLogger(DatabaseCostBenchmark.class);

  /**
   * The participants' sessions: engines built without an adapter connect under the core's neutral
   * name.
   */
  private static final String APPLICATION_NAME = DiscoverySettings.Naming.NEUTRAL.applicationName();

  /** Participants started together; the next batch starts when these are ready (and joined). */
  static final int START_BATCH = 25;

  /**
   * After the start-up, before the window: backends report their commits to pg_stat_database up to
   * about 10 s late when idle (PostgreSQL 15 and later), so the start-up's are counted there.
   */
  private static final Duration SETTLE = Duration.ofSeconds(12);

  /**
   * From the first participant's start until all are ready (and, in the default configuration,
   * joined), then {@link #SETTLE}d: what that cost the server and this JVM.
   */
  record StartUp(
      double seconds,
      long notifications,
      long commits,
      double serverCpuSeconds,
      double benchCpuSeconds,
      double loadAverage) {}

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
      int smallestTable,
      StartUp startUp) {

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
   * each size the library's default configuration (silent once joined) with every one of {@code
   * connectionChecks}; then, only at the sizes in {@code comparisonSizes}, the comparison modes: if
   * {@code oneRate}, every participant announcing at {@code heartbeat} throughout (the protocol
   * before joined nodes slowed down), and participants announcing at each positive one of {@code
   * joinedHeartbeats} once joined, with the first of {@code connectionChecks}. The comparison modes
   * keep every participant announcing until all have heard each other; at N = 500 that saturates 2
   * cores for minutes (each NOTIFY wakes all 500 backends), hence not there by default.
   */
  String run(
      int[] sizes,
      int[] comparisonSizes,
      boolean oneRate,
      Duration heartbeat,
      List<Duration> joinedHeartbeats,
      List<Duration> connectionChecks,
      Duration window)
      throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.add(idle(window));
    for (int n : sizes) {
      if (joinedHeartbeats.contains(Duration.ZERO)) {
        for (Duration check : connectionChecks) {
          rows.add(measure(n, heartbeat, Duration.ZERO, check, window));
        }
      }
      if (Arrays.stream(comparisonSizes).noneMatch(size -> size == n)) {
        continue;
      }
      if (oneRate) {
        rows.add(measure(n, heartbeat, heartbeat, connectionChecks.get(0), window));
      }
      for (Duration joined : joinedHeartbeats) {
        if (!joined.isZero()) {
          rows.add(measure(n, heartbeat, joined, connectionChecks.get(0), window));
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
            0,
            null);
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
    boolean library = joinedHeartbeat.isZero();
    Protocol.Factory protocols = library ? DiscoveryProtocol::new : HeartbeatOnlyProtocol::new;
    List<DiscoveryEngine> engines = new ArrayList<>();
    long commitsAtStart = commits();
    OptionalLong cpuAtStart = db.serverCpuTicks();
    long benchCpuAtStart = benchCpuNanos();
    long startedAt = System.nanoTime();
    int members = 0;
    try {
      for (int i = 0; i < n; i++) {
        DiscoveryEngine engine =
            new DiscoveryEngine(
                protocols.create(
                    settings,
                    new Announcement(
                        "cost",
                        "127.0.0.1",
                        40_000 + i,
                        "akka://cost@127.0.0.1:" + (50_000 + i),
                        i,
                        UUID.randomUUID().toString()),
                    new SplittableRandom()),
                EngineObserver.NONE);
        engines.add(engine);
        engine.start();
        if ((i + 1) % START_BATCH == 0 || i == n - 1) {
          awaitReady(engines);
          if (library) {
            // The library's own protocol: the batch joins the cluster of those before it, as Akka's
            // MemberUp tells a real node, and goes silent. Nodes that wait to join keep
            // announcing every heartbeat, each NOTIFY waking every backend.
            ConvergenceBenchmark.formCluster(engines, members);
            members = engines.size();
          }
          log.info(
              "N={} joined heartbeat {}: {} participants ready in {} s",
              n,
              joinedHeartbeat,
              engines.size(),
              String.format("%.1f", (System.nanoTime() - startedAt) / 1e9));
        }
      }
      if (!library) {
        // Heartbeats only: everybody has heard everybody after one heartbeat; then they join their
        // cluster, as Akka's MemberUp tells a real node, and switch at their next heartbeat, which
        // states the new interval.
        Thread.sleep(heartbeat.multipliedBy(11).dividedBy(10).toMillis());
        ConvergenceBenchmark.formCluster(engines);
        Thread.sleep(heartbeat.multipliedBy(12).dividedBy(10).toMillis());
      }
      double startSeconds = (System.nanoTime() - startedAt) / 1e9;
      long startNotifications = sent(engines);
      // A short window (the smoke run) settles briefly: its commits are not the point.
      Thread.sleep(window.compareTo(SETTLE) < 0 ? 1000 : SETTLE.toMillis());
      OptionalLong cpuAtReady = db.serverCpuTicks();
      StartUp startUp =
          new StartUp(
              startSeconds,
              startNotifications,
              commits() - commitsAtStart,
              cpuPercent(cpuAtStart, cpuAtReady, 1) / 100,
              (benchCpuNanos() - benchCpuAtStart) / 1e9,
              loadAverage());
      log.info("N={} joined heartbeat {}: start-up {}", n, joinedHeartbeat, startUp);

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
              smallestTable,
              startUp);
      log.info("{}", row);
      return row;
    } finally {
      long stopping = System.nanoTime();
      engines.forEach(DiscoveryEngine::shutdown);
      engines.forEach(DiscoveryEngine::close);
      log.info(
          "N={}: {} participants stopped in {} s",
          n,
          engines.size(),
          String.format("%.1f", (System.nanoTime() - stopping) / 1e9));
    }
  }

  /** CPU time of this JVM (every participant's parsing included), in nanoseconds. */
  private static long benchCpuNanos() {
    return ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class)
        .getProcessCpuTime();
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
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
    md.append("Steady state: all participants found each other and joined, measured over ")
        .append(window.toSeconds())
        .append(
            " s (or two joined intervals, whichever is longer). Participants are engines in the ")
        .append("benchmark's JVM, each with its own connection, started ")
        .append(START_BATCH)
        .append(" at a time. *Silent once joined* is the library's default ")
        .append(
            "(`joined-heartbeat-interval = off`): each batch, once ready, joins the cluster of ")
        .append(
            "those before it (MemberUp for everybody, as Akka tells a real node). The comparison ")
        .append(
            "rows run heartbeat-only, everybody announcing every 5 s until all have heard each ")
        .append("other and then at the joined interval (*one rate*: 5 s throughout, the protocol ")
        .append("before joined intervals). *Connections*: `pg_stat_activity` rows with ")
        .append("application_name `")
        .append(APPLICATION_NAME)
        .append("` per participant; *notifications*: counted by the participants; *commits*: ")
        .append("`pg_stat_database.xact_commit` (each NOTIFY commits, and on PostgreSQL 14 to 18 ")
        .append("every listening backend it wakes reads in a transaction of its own); *PostgreSQL ")
        .append("CPU*: user + system time of the postmaster and all its children (and of children ")
        .append("that exited), from /proc/<pid>/stat, as a share of one core; *connection check*: ")
        .append("`connection-check-interval`, a round trip on an idle connection, which wakes ")
        .append(
            "nobody; *smallest table*: the fewest peers any participant lists at the end (N - 1: ")
        .append(
            "nobody dropped anybody). The first row is the server with only the benchmark's own ")
        .append("session.\n\n");
    md.append(
        "| N | announcing | connection check | connections per participant | notifications/s (expected) "
            + "| commits/s | PostgreSQL CPU, % of one core | smallest table |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (Row row : rows) {
      if (row.participants() == 0) {
        md.append("| 0 | nobody connected (idle server) | | | | ")
            .append(String.format(Locale.ROOT, "%.1f", row.commitsPerSecond()))
            .append(" | ")
            .append(cpu(row.cpuPercentOfOneCore(), "%.2f"))
            .append(" | |\n");
        continue;
      }
      md.append("| ")
          .append(row.participants())
          .append(" | ")
          .append(announcing(row))
          .append(" | ")
          .append(seconds(row.connectionCheck()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.2f", row.connectionsPerParticipant()))
          .append(" | ")
          .append(
              String.format(
                  Locale.ROOT,
                  "%.1f (%.1f)",
                  row.notifiesPerSecond(),
                  row.expectedNotifiesPerSecond()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.1f", row.commitsPerSecond()))
          .append(" | ")
          .append(cpu(row.cpuPercentOfOneCore(), "%.2f"))
          .append(" | ")
          .append(row.smallestTable())
          .append(" |\n");
    }
    md.append("\nGetting there: from the first participant's start until all are ready (and, ")
        .append("silent once joined, joined; heartbeat-only, 2.3 heartbeats more), then ")
        .append(SETTLE.toSeconds())
        .append(" s for the backends to report their commits. What a newcomer's join sends (its ")
        .append("announcement and probe, two responders' rosters of ceil(n / 40) parts, n the ")
        .append("participants by then) wakes every backend listening by then, so starting N one ")
        .append("batch after another costs up to about N³ / 60 backend wake-ups, fewer where the ")
        .append(
            "server coalesces signals; *benchmark JVM CPU* is the participants' own work (each ")
        .append("message is parsed by every participant in this one JVM); *load average*: ")
        .append("1-minute, at the end of the start-up (2 cores; every backend woken at once ")
        .append("counts in it).\n\n");
    md.append(
        "| N | announcing | started in | notifications | commits | PostgreSQL CPU | benchmark JVM"
            + " CPU | load average |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (Row row : rows) {
      StartUp startUp = row.startUp();
      if (startUp == null) {
        continue;
      }
      md.append("| ")
          .append(row.participants())
          .append(" | ")
          .append(announcing(row))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.1f s", startUp.seconds()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%,d", startUp.notifications()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%,d", startUp.commits()))
          .append(" | ")
          .append(cpu(startUp.serverCpuSeconds(), "%.1f s"))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.1f s", startUp.benchCpuSeconds()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.1f", startUp.loadAverage()))
          .append(" |\n");
    }
    return md.toString();
  }

  private static String announcing(Row row) {
    return row.joinedHeartbeat().isZero()
        ? "silent once joined (the default)"
        : row.joinedHeartbeat().equals(row.heartbeat())
            ? "one rate, every " + seconds(row.heartbeat())
            : "joined slower, every "
                + seconds(row.heartbeat())
                + " then "
                + seconds(row.joinedHeartbeat());
  }

  private static String cpu(double value, String format) {
    return Double.isNaN(value)
        ? "n/a (external server)"
        : String.format(Locale.ROOT, format, value);
  }

  private static String seconds(Duration duration) {
    return duration.toMillis() % 1000 == 0
        ? duration.toSeconds() + " s"
        : duration.toMillis() + " ms";
  }
}
