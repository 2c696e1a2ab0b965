package io.github.pgdiscovery.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * The PostgreSQL the benchmarks run against: the one at AKKA_DISCOVERY_POSTGRES_URL, or an embedded
 * one started here with max_connections raised for 500 participants. Only an embedded server's CPU
 * time can be read (from /proc, for the postmaster and its children).
 */
final class BenchDatabase implements AutoCloseable {

  /** 500 participants, the formation benchmark's nodes, and room for psql sessions. */
  static final int MAX_CONNECTIONS = 1100;

  private final String url;
  private final String user;
  private final String password;
  private final EmbeddedPostgres embedded;

  private BenchDatabase(String url, String user, String password, EmbeddedPostgres embedded) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.embedded = embedded;
  }

  static BenchDatabase start() throws IOException {
    String external = System.getenv("AKKA_DISCOVERY_POSTGRES_URL");
    if (external != null && !external.isBlank()) {
      return new BenchDatabase(
          external,
          System.getenv("AKKA_DISCOVERY_POSTGRES_USER"),
          System.getenv("AKKA_DISCOVERY_POSTGRES_PASSWORD"),
          null);
    }
    EmbeddedPostgres postgres =
        EmbeddedPostgres.builder()
            .setServerConfig("max_connections", Integer.toString(MAX_CONNECTIONS))
            .setServerConfig("shared_buffers", "128MB")
            .start();
    return new BenchDatabase(
        "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres",
        "postgres",
        null,
        postgres);
  }

  String url() {
    return url;
  }

  String user() {
    return user;
  }

  String password() {
    return password;
  }

  boolean embedded() {
    return embedded != null;
  }

  Connection connect() throws SQLException {
    Properties properties = new Properties();
    if (user != null) {
      properties.setProperty("user", user);
    }
    if (password != null) {
      properties.setProperty("password", password);
    }
    properties.setProperty("ApplicationName", "akka-discovery-postgres-bench");
    return DriverManager.getConnection(url, properties);
  }

  String version() throws SQLException {
    return queryText("SHOW server_version");
  }

  String queryText(String sql) throws SQLException {
    try (Connection connection = connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      result.next();
      return result.getString(1);
    }
  }

  long queryLong(String sql) throws SQLException {
    return Long.parseLong(queryText(sql));
  }

  /**
   * CPU time (user + system, in clock ticks of 1/100 s) of the embedded server's postmaster and all
   * its children, those that exited included, read from /proc; empty for an external server or
   * without /proc.
   */
  OptionalLong serverCpuTicks() throws IOException {
    if (embedded == null || !Files.isDirectory(Path.of("/proc"))) {
      return OptionalLong.empty();
    }
    Path pidFile = Path.of(queryTextUnchecked("SHOW data_directory"), "postmaster.pid");
    long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    long ticks = 0;
    List<Path> processes = new ArrayList<>();
    try (var entries = Files.list(Path.of("/proc"))) {
      entries.filter(path -> path.getFileName().toString().matches("\\d+")).forEach(processes::add);
    }
    for (Path process : processes) {
      String[] stat = statFields(process);
      if (stat == null) {
        continue;
      }
      long pid = Long.parseLong(process.getFileName().toString());
      long parent = Long.parseLong(stat[1]);
      if (pid == postmaster || parent == postmaster) {
        // Fields after the command name: state(0) ppid(1) ... utime(11) stime(12).
        ticks += Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
      }
      if (pid == postmaster) {
        // cutime(13) cstime(14): the children that exited (backends of closed connections).
        ticks += Long.parseLong(stat[13]) + Long.parseLong(stat[14]);
      }
    }
    return OptionalLong.of(ticks);
  }

  private static String[] statFields(Path process) {
    try {
      String stat = Files.readString(process.resolve("stat"));
      // The command name is in parentheses and may contain spaces: split after its closing
      // parenthesis.
      return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    } catch (IOException | RuntimeException e) {
      return null; // The process ended while we looked.
    }
  }

  private String queryTextUnchecked(String sql) {
    try {
      return queryText(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws IOException {
    if (embedded != null) {
      embedded.close();
    }
  }
}
