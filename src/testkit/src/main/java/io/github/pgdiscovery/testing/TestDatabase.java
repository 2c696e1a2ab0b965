package io.github.pgdiscovery.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Handle on the PostgreSQL server shared by all tests of one JVM. Obtain it by declaring a
 * parameter of this type in a class extended with {@link PostgresExtension}.
 *
 * <p>The server is shared: tests must not rely on a clean database and should use {@link
 * #newChannelName()} (or other unique names) so they do not see each other's traffic.
 */
public final class TestDatabase {

  /**
   * application_name of the helper connection used by {@link #terminateBackend} and {@link
   * #countBackends}.
   */
  public static final String ADMIN_APPLICATION_NAME = "pgdiscovery-test-admin";

  private static final AtomicLong CHANNEL_COUNTER = new AtomicLong();

  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final String description;

  private final Object adminLock = new Object();
  private Connection adminConnection; // guarded by adminLock
  private boolean closed; // guarded by adminLock

  TestDatabase(String jdbcUrl, String user, String password, String description) {
    this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    this.user = user;
    this.password = password;
    this.description = description;
  }

  /** JDBC URL of the server; it may itself carry user and password. */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  /** Host the server listens on, from the URL (the first one, if the URL names several). */
  public String host() {
    return urlProperties().getProperty("PGHOST").split(",")[0];
  }

  /** Port the server listens on, from the URL. */
  public int port() {
    return Integer.parseInt(urlProperties().getProperty("PGPORT").split(",")[0]);
  }

  /** Database name, from the URL. */
  public String databaseName() {
    return urlProperties().getProperty("PGDBNAME");
  }

  /**
   * The JDBC URL with its host and port replaced by 127.0.0.1:{@code port}, e.g. to go through a
   * proxy.
   */
  public String jdbcUrlVia(int port) {
    return jdbcUrl.replaceFirst("//[^/]*/", "//127.0.0.1:" + port + "/");
  }

  /** What pgjdbc reads from the URL: PGHOST, PGPORT, PGDBNAME and the URL's parameters. */
  Properties urlProperties() {
    Properties parsed = org.postgresql.Driver.parseURL(jdbcUrl, new Properties());
    if (parsed == null) {
      throw new IllegalStateException("not a PostgreSQL JDBC URL: " + jdbcUrl);
    }
    return parsed;
  }

  /**
   * User to connect as, or null when it is carried by the URL (or left to the driver's default).
   */
  public String user() {
    return user;
  }

  /** Password, or null when none is needed or it is carried by the URL. */
  public String password() {
    return password;
  }

  /** {@code user} and {@code password}, each only when present; a fresh copy each call. */
  public Properties connectionProperties() {
    Properties properties = new Properties();
    if (user != null && !user.isEmpty()) {
      properties.setProperty("user", user);
    }
    if (password != null && !password.isEmpty()) {
      properties.setProperty("password", password);
    }
    return properties;
  }

  /** Opens a new connection (auto-commit on); the caller closes it. */
  public Connection openConnection() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, connectionProperties());
  }

  /**
   * A channel name no other call in this JVM returns: lowercase letters, digits and underscores,
   * starting with a letter and well under Postgres' 63-byte identifier limit, so it is valid quoted
   * or unquoted.
   */
  public String newChannelName() {
    long n = CHANNEL_COUNTER.incrementAndGet();
    String suffix = Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    return ("t_" + n + "_" + suffix).toLowerCase(Locale.ROOT);
  }

  /**
   * Runs {@code pg_terminate_backend(pid)} and returns its result: true when the signal was sent.
   * Termination is asynchronous, the backend may still be listed in pg_stat_activity for a short
   * while.
   */
  public boolean terminateBackend(int pid) throws SQLException {
    return withAdminConnection(
        connection -> {
          try (PreparedStatement statement =
              connection.prepareStatement("SELECT pg_terminate_backend(?)")) {
            statement.setInt(1, pid);
            try (ResultSet rs = statement.executeQuery()) {
              rs.next();
              return rs.getBoolean(1);
            }
          }
        });
  }

  /**
   * Number of server backends (rows of pg_stat_activity) whose application_name equals the
   * argument.
   */
  public int countBackends(String applicationName) throws SQLException {
    Objects.requireNonNull(applicationName, "applicationName");
    return withAdminConnection(
        connection -> {
          try (PreparedStatement statement =
              connection.prepareStatement(
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
            statement.setString(1, applicationName);
            try (ResultSet rs = statement.executeQuery()) {
              rs.next();
              return rs.getInt(1);
            }
          }
        });
  }

  @Override
  public String toString() {
    return "TestDatabase[" + description + ", " + jdbcUrl + "]";
  }

  /** Closes the helper connection; called when the server is shut down. */
  void close() {
    synchronized (adminLock) {
      closed = true;
      closeQuietly(adminConnection);
      adminConnection = null;
    }
  }

  private interface AdminCall<T> {
    T apply(Connection connection) throws SQLException;
  }

  /**
   * Serialises use of the single helper connection (auto-commit, so each statement sees fresh
   * pg_stat_activity) and replaces it when it has been broken, for example by a test terminating
   * every backend.
   */
  private <T> T withAdminConnection(AdminCall<T> call) throws SQLException {
    synchronized (adminLock) {
      if (closed) {
        throw new SQLException("test database already shut down");
      }
      if (adminConnection == null || !adminConnection.isValid(5)) {
        closeQuietly(adminConnection);
        adminConnection = null;
        Properties properties = connectionProperties();
        properties.setProperty("ApplicationName", ADMIN_APPLICATION_NAME);
        Connection fresh = DriverManager.getConnection(jdbcUrl, properties);
        fresh.setAutoCommit(true);
        adminConnection = fresh;
      }
      return call.apply(adminConnection);
    }
  }

  private static void closeQuietly(Connection connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // best effort
      }
    }
  }
}
