package io.github.pgdiscovery.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two embedded PostgreSQL servers (io.zonky), a primary and a hot standby that streams from it, for
 * the tests of what a client sees during a failover: the standby is in recovery and refuses writes,
 * LISTEN and NOTIFY; {@link #stopPrimary()} takes the primary away; {@link #promoteStandby()} makes
 * the standby the new primary. Both live in a temporary directory of their own, on free ports of
 * 127.0.0.1, and are independent of the database {@link PostgresExtension} shares.
 *
 * <p>The standby is made without pg_basebackup, which io.zonky's binaries do not carry (only
 * initdb, pg_ctl and postgres): a copy of a cleanly shut down cluster is a valid base backup. The
 * copy is taken of the cluster initdb has just made, before the primary first starts (io.zonky's
 * data directory customizer runs between the two), which saves stopping and starting the primary
 * once more. The copy gets {@code standby.signal} and a {@code primary_conninfo} in its {@code
 * postgresql.auto.conf} and is started by io.zonky like any server: io.zonky runs initdb only when
 * the data directory has no {@code postgresql.conf}, and its readiness check ({@code SELECT 1} in
 * the postgres database) passes on a hot standby once it is consistent, which a copy of a shut down
 * cluster is from the start.
 *
 * <p>Both servers run with the same settings ({@code SERVER_CONFIG} says which and why).
 */
public final class ReplicatedPostgres implements AutoCloseable {

  /** The superuser initdb creates; authentication is {@code trust}, so no password. */
  public static final String USER = "postgres";

  public static final String DATABASE = "postgres";

  /** What the standby calls itself on the primary (pg_stat_replication.application_name). */
  public static final String STANDBY_NAME = "pgdiscovery_standby";

  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedPostgres.class);

  /**
   * Settings of both servers, on top of io.zonky's (fsync off, {@code timezone=UTC}).
   *
   * <ul>
   *   <li>The replication settings are PostgreSQL's defaults since version 10, named so that the
   *       rig does not depend on them; {@code wal_keep_size} keeps WAL for the standby however far
   *       it falls behind in a test.
   *   <li>{@code max_connections} and {@code max_wal_senders} may not be lower than PostgreSQL's
   *       defaults: the standby starts from the cluster as initdb left it, whose control file
   *       records the defaults as the primary's settings, and refuses to recover with lower ones
   *       ("recovery aborted because of insufficient parameter settings").
   *   <li>{@code synchronous_commit} is PostgreSQL's default again (io.zonky turns it off): a
   *       commit returns once its WAL is written out, so the primary can send it to the standby at
   *       once and {@link #awaitStandbyCaughtUp()} covers every transaction committed before it was
   *       called.
   * </ul>
   */
  private static final Map<String, String> SERVER_CONFIG =
      Map.of(
          "wal_level", "replica",
          "max_wal_senders", "10",
          "hot_standby", "on",
          "wal_keep_size", "64MB",
          "max_connections", "100",
          "synchronous_commit", "on");

  /**
   * Replication connections from the loopback address, without a password, ahead of initdb's own
   * lines (the first line that matches decides).
   */
  private static final String HBA_REPLICATION_LINES =
      "# Written by "
          + ReplicatedPostgres.class.getName()
          + ": the standby streams from 127.0.0.1.\n"
          + "host replication all 127.0.0.1/32 trust\n";

  /** Starting or stopping a server, promoting, and the standby connecting to the primary. */
  private static final Duration DEADLINE = Duration.ofSeconds(60);

  /** Files of a data directory that belong to the running server, not to the cluster. */
  private static final List<String> NOT_COPIED = List.of("postmaster.pid", "epg-lock");

  private final Path directory;
  private final Path primaryDirectory;
  private final Path standbyDirectory;
  private final int primaryPort;
  private final int standbyPort;
  private EmbeddedPostgres primary;
  private EmbeddedPostgres standby;

  private ReplicatedPostgres(Path directory, int primaryPort, int standbyPort) {
    this.directory = directory;
    this.primaryDirectory = directory.resolve("primary");
    this.standbyDirectory = directory.resolve("standby");
    this.primaryPort = primaryPort;
    this.standbyPort = standbyPort;
  }

  /**
   * Starts the primary and the standby and returns once the standby streams: the primary lists it
   * as streaming in pg_stat_replication, and the standby is in recovery with its WAL receiver
   * streaming.
   */
  public static ReplicatedPostgres start() throws IOException {
    long started = System.nanoTime();
    Path directory = Files.createTempDirectory("pgdiscovery-replicated-");
    ReplicatedPostgres servers = new ReplicatedPostgres(directory, Ports.free(), Ports.free());
    try {
      servers.startPrimaryAndStandby();
    } catch (IOException | RuntimeException | Error e) {
      try {
        servers.close();
      } catch (IOException | RuntimeException alsoFailed) {
        e.addSuppressed(alsoFailed);
      }
      throw e;
    }
    LOG.info(
        "Replicated PostgreSQL {}: primary on port {}, standby on port {} streaming (started in {}"
            + " ms)",
        queryOne(servers.primaryPort, "SHOW server_version"),
        servers.primaryPort,
        servers.standbyPort,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    return servers;
  }

  private void startPrimaryAndStandby() throws IOException {
    long started = System.nanoTime();
    Files.createDirectories(primaryDirectory);
    primary =
        server(primaryDirectory, primaryPort)
            .setDataDirectoryCustomizer(this::allowReplicationAndCopyForStandby)
            .start();
    long primaryStarted = System.nanoTime();
    standby = server(standbyDirectory, standbyPort).start();
    long standbyStarted = System.nanoTime();
    Poll.until(DEADLINE, "the standby streams from the primary", this::streaming, this::state);
    LOG.debug(
        "Replicated PostgreSQL: initdb, copy and primary start {} ms, standby start {} ms,"
            + " streaming {} ms later",
        TimeUnit.NANOSECONDS.toMillis(primaryStarted - started),
        TimeUnit.NANOSECONDS.toMillis(standbyStarted - primaryStarted),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - standbyStarted));
  }

  private static EmbeddedPostgres.Builder server(Path dataDirectory, int port) {
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDirectory)
            .setCleanDataDirectory(false)
            .setPort(port)
            .setPGStartupWait(DEADLINE);
    SERVER_CONFIG.forEach(builder::setServerConfig);
    return builder;
  }

  /**
   * Runs after initdb and before the primary first starts: the cluster is shut down cleanly, so its
   * copy is a base backup.
   */
  private void allowReplicationAndCopyForStandby(File dataDirectory) {
    try {
      Path hba = dataDirectory.toPath().resolve("pg_hba.conf");
      String initdbLines = Files.readString(hba, StandardCharsets.UTF_8);
      Files.writeString(hba, HBA_REPLICATION_LINES + initdbLines, StandardCharsets.UTF_8);
      copyCluster(dataDirectory.toPath(), standbyDirectory);
      Files.createFile(standbyDirectory.resolve("standby.signal"));
      Files.writeString(
          standbyDirectory.resolve("postgresql.auto.conf"),
          "primary_conninfo = 'host=127.0.0.1 port="
              + primaryPort
              + " user="
              + USER
              + " application_name="
              + STANDBY_NAME
              + "'\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("could not make the standby's data directory", e);
    }
  }

  /** Copies a data directory, with its permissions: PostgreSQL wants 0700 or 0750 on it. */
  private static void copyCluster(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path relative = from.relativize(source);
        if (NOT_COPIED.contains(relative.toString())) {
          continue;
        }
        Files.copy(source, to.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  public int primaryPort() {
    return primaryPort;
  }

  public int standbyPort() {
    return standbyPort;
  }

  /** {@code jdbc:postgresql://127.0.0.1:<primary>/postgres?user=postgres}. */
  public String primaryUrl() {
    return url(primaryPort);
  }

  /** {@code jdbc:postgresql://127.0.0.1:<standby>/postgres?user=postgres}. */
  public String standbyUrl() {
    return url(standbyPort);
  }

  /**
   * Both servers in one URL, primary first, with pgjdbc's {@code targetServerType} ({@code any},
   * {@code primary}, {@code secondary}, {@code preferSecondary}, {@code preferPrimary}): {@code
   * jdbc:postgresql://127.0.0.1:<primary>,127.0.0.1:<standby>/postgres?user=postgres&targetServerType=primary}.
   */
  public String multiHostUrl(String targetServerType) {
    return "jdbc:postgresql://127.0.0.1:"
        + primaryPort
        + ",127.0.0.1:"
        + standbyPort
        + "/"
        + DATABASE
        + "?user="
        + USER
        + "&targetServerType="
        + targetServerType;
  }

  private static String url(int port) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE + "?user=" + USER;
  }

  /**
   * Waits until the standby has replayed the primary's WAL as far as the primary has flushed it, so
   * that what was committed on the primary before this call can be read on the standby.
   */
  public void awaitStandbyCaughtUp() {
    String written = queryOne(primaryPort, "SELECT pg_current_wal_flush_lsn()::text");
    Poll.until(
        DEADLINE,
        "the standby replays the primary's WAL up to " + written,
        () ->
            "t"
                .equals(
                    queryOne(
                        standbyPort,
                        "SELECT pg_last_wal_replay_lsn() >= '" + written + "'::pg_lsn")),
        this::state);
  }

  /**
   * Stops the primary with a fast shutdown, as an operator or a failing host would: its sessions
   * are terminated and new connections refused. Returns once its postmaster is gone. The standby
   * stays in recovery, its WAL receiver retrying the primary, until {@link #promoteStandby()}.
   */
  public void stopPrimary() throws IOException {
    primary.close();
    Path pidFile = primaryDirectory.resolve("postmaster.pid");
    Poll.until(DEADLINE, "the primary's postmaster exits", () -> !Files.exists(pidFile));
  }

  /**
   * Promotes the standby ({@code pg_promote}) and returns once it has left recovery and takes
   * writes. Works whether the primary still runs or not: PostgreSQL does not know about the other
   * server, so both are primaries afterwards if it does.
   */
  public void promoteStandby() {
    String promoted = queryOne(standbyPort, "SELECT pg_promote(true, 60)");
    if (!"t".equals(promoted)) {
      throw new IllegalStateException("pg_promote returned " + promoted + "; " + state());
    }
    Poll.until(
        DEADLINE,
        "the promoted standby leaves recovery",
        () -> "f".equals(queryOne(standbyPort, "SELECT pg_is_in_recovery()")),
        this::state);
  }

  private boolean streaming() {
    try {
      String sent =
          queryOne(
              primaryPort,
              "SELECT count(*) FROM pg_stat_replication"
                  + " WHERE application_name = '"
                  + STANDBY_NAME
                  + "' AND state = 'streaming'");
      String received =
          queryOne(
              standbyPort,
              "SELECT pg_is_in_recovery() AND EXISTS"
                  + " (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')");
      return "1".equals(sent) && "t".equals(received);
    } catch (IllegalStateException notYet) {
      return false;
    }
  }

  /** What each server says about replication, for failure messages. */
  private String state() {
    return "primary: "
        + describe(
            primaryPort,
            "SELECT 'in recovery: ' || pg_is_in_recovery() || ', senders: ' || coalesce((SELECT"
                + " string_agg(application_name || ' ' || state, ', ') FROM pg_stat_replication),"
                + " 'none')")
        + "; standby: "
        + describe(
            standbyPort,
            "SELECT 'in recovery: ' || pg_is_in_recovery() || ', receiver: ' || coalesce((SELECT"
                + " status FROM pg_stat_wal_receiver), 'none') || ', replayed up to: ' ||"
                + " coalesce(pg_last_wal_replay_lsn()::text, 'n/a')");
  }

  private static String describe(int port, String sql) {
    try {
      return queryOne(port, sql);
    } catch (IllegalStateException e) {
      return e.getMessage();
    }
  }

  /** The first column of the first row, as text, over a connection of its own. */
  private static String queryOne(int port, String sql) {
    Properties properties = new Properties();
    properties.setProperty("ApplicationName", "pgdiscovery-test-replication");
    properties.setProperty("connectTimeout", "5");
    properties.setProperty("socketTimeout", "70");
    try (Connection connection = DriverManager.getConnection(url(port), properties);
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "port " + port + ": " + e.getSQLState() + " " + e.getMessage(), e);
    }
  }

  /** Stops both servers (those still running) and deletes their data directories. */
  @Override
  public void close() throws IOException {
    List<Exception> failures = new ArrayList<>();
    for (EmbeddedPostgres server : new EmbeddedPostgres[] {standby, primary}) {
      if (server == null) {
        continue;
      }
      try {
        server.close();
      } catch (IOException | RuntimeException e) {
        failures.add(e);
      }
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(path);
      }
    }
    if (!failures.isEmpty()) {
      IOException failure = new IOException("could not stop every server");
      failures.forEach(failure::addSuppressed);
      throw failure;
    }
  }

  @Override
  public String toString() {
    return "ReplicatedPostgres[primary 127.0.0.1:"
        + primaryPort
        + ", standby 127.0.0.1:"
        + standbyPort
        + "]";
  }
}
