package io.github.pgdiscovery.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

@DatabaseTest
class PostgresExtensionTest {

  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final TestDatabase db;

  PostgresExtensionTest(TestDatabase db) {
    this.db = db;
  }

  @Test
  void theServerIsOfTheMajorVersionTheBuildAskedForUnlessItIsAnExternalOne() throws SQLException {
    try (Connection connection = db.openConnection();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SHOW server_version_num")) {
      assertTrue(result.next());
      int major = Integer.parseInt(result.getString(1)) / 10_000;
      if (System.getenv(PostgresExtension.URL_ENV) == null
          || System.getenv(PostgresExtension.URL_ENV).isBlank()) {
        assertEquals(
            PostgresExtension.VERSION,
            Integer.toString(major),
            "-Dpostgres.version picks the server the tests run on");
      }
      assertTrue(major >= 14, "PostgreSQL 14 or newer is supported, this is " + major);
    }
  }

  @Test
  void notificationSentOnOneConnectionArrivesAtAnotherConnectionListeningOnTheChannel()
      throws Exception {
    String channel = db.newChannelName();
    assertTrue(channel.matches("[a-z][a-z0-9_]{0,62}"), "not a plain identifier: " + channel);
    assertNotEquals(channel, db.newChannelName());

    try (Connection listener = db.openConnection();
        Connection sender = db.openConnection()) {
      try (Statement statement = listener.createStatement()) {
        statement.execute("LISTEN \"" + channel + "\"");
      }
      int senderPid = sender.unwrap(PGConnection.class).getBackendPID();

      try (PreparedStatement notify = sender.prepareStatement("SELECT pg_notify(?, ?)")) {
        notify.setString(1, channel);
        notify.setString(2, "hello from the smoke test");
        try (ResultSet rs = notify.executeQuery()) {
          assertTrue(rs.next());
        }
      }

      PGNotification received = awaitNotification(listener.unwrap(PGConnection.class), channel);
      assertEquals("hello from the smoke test", received.getParameter());
      assertEquals(senderPid, received.getPID());
    }
  }

  @Test
  void terminatingAListenersBackendSucceedsAndBreaksItsConnection() throws Exception {
    try (Connection listener = db.openConnection()) {
      try (Statement statement = listener.createStatement()) {
        statement.execute("LISTEN \"" + db.newChannelName() + "\"");
      }
      int pid = listener.unwrap(PGConnection.class).getBackendPID();

      assertTrue(db.terminateBackend(pid), "pg_terminate_backend(" + pid + ")");

      SQLException failure = awaitFailure(listener);
      assertNotNull(failure);
      assertFalse(listener.isValid(2), "connection still valid after its backend was terminated");
    }
  }

  @Test
  void countBackendsSeesConnectionsByApplicationNameUntilTheyClose() throws Exception {
    String applicationName = "count_" + db.newChannelName();
    Properties properties = db.connectionProperties();
    properties.setProperty("ApplicationName", applicationName);

    assertEquals(0, db.countBackends(applicationName));
    Connection first = DriverManager.getConnection(db.jdbcUrl(), properties);
    Connection second = DriverManager.getConnection(db.jdbcUrl(), properties);
    try {
      assertEquals(2, db.countBackends(applicationName));
    } finally {
      first.close();
      second.close();
    }
    // A closed backend leaves pg_stat_activity asynchronously.
    awaitBackendCount(applicationName, 0);
  }

  private static PGNotification awaitNotification(PGConnection connection, String channel)
      throws SQLException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      PGNotification[] notifications = connection.getNotifications(250);
      if (notifications != null) {
        for (PGNotification notification : notifications) {
          if (channel.equals(notification.getName())) {
            return notification;
          }
        }
      }
    }
    return fail("no notification on " + channel + " within " + DEADLINE);
  }

  /**
   * Uses the connection until the driver reports the terminated backend; the signal is delivered
   * asynchronously.
   */
  private static SQLException awaitFailure(Connection connection) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        connection.unwrap(PGConnection.class).getNotifications(100);
        try (Statement statement = connection.createStatement()) {
          statement.execute("SELECT 1");
        }
      } catch (SQLException expected) {
        return expected;
      }
    }
    return fail("connection kept working for " + DEADLINE + " after pg_terminate_backend");
  }

  private void awaitBackendCount(String applicationName, int expected)
      throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    int count;
    do {
      count = db.countBackends(applicationName);
      if (count == expected) {
        return;
      }
      Thread.sleep(20); // poll interval only; the deadline decides
    } while (System.nanoTime() < deadline);
    assertEquals(expected, count, "backends with application_name " + applicationName);
  }
}
