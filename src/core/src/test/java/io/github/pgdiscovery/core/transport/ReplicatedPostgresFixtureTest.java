package io.github.pgdiscovery.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.ReplicatedPostgres;
import io.github.pgdiscovery.testing.TcpProxy;
import java.io.EOFException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The test kit's failover rig, a primary with a streaming hot standby ({@link ReplicatedPostgres})
 * and an endpoint that can be moved to another server ({@link TcpProxy#switchTarget}), and what
 * pgjdbc shows a client during a failover, which the discovery's handling of one relies on: a hot
 * standby refuses LISTEN and NOTIFY; a session on a primary that stops ends with the server's
 * "terminating connection"; {@code targetServerType=primary} finds no server between the primary's
 * end and the standby's promotion, and the promoted one at once after it; a moved endpoint ends the
 * connections to the old server and leads new ones to the new primary.
 *
 * <p>Each test starts its own two servers; the tag leaves them out of a quick run with the other
 * tests that need a database.
 */
@Tag(DatabaseTest.TAG)
final class ReplicatedPostgresFixtureTest {

  private static final Logger log = LoggerFactory.getLogger(ReplicatedPostgresFixtureTest.class);

  /** Seconds pgjdbc may take to open a socket and to log in, each. */
  private static final int CONNECT_TIMEOUT_SECONDS = 2;

  private static final String TIMEOUTS =
      "&connectTimeout=" + CONNECT_TIMEOUT_SECONDS + "&loginTimeout=" + CONNECT_TIMEOUT_SECONDS;

  private static final String TERMINATED =
      "FATAL: terminating connection due to administrator command";

  @Test
  void aFailoverFromAStoppedPrimaryToThePromotedStandby() throws Exception {
    long starting = System.nanoTime();
    try (ReplicatedPostgres servers = ReplicatedPostgres.start()) {
      log.info("Primary and streaming standby started in {} ms", millisSince(starting));
      String primary = serverAt(servers.primaryPort(), false);
      String promoted = serverAt(servers.standbyPort(), false);

      // The standby is a replica of the primary, in recovery, and refuses LISTEN and NOTIFY.
      try (Connection connection = connect(servers.primaryUrl())) {
        execute(connection, "CREATE TABLE replicated (x int)");
        execute(connection, "INSERT INTO replicated VALUES (42)");
      }
      servers.awaitStandbyCaughtUp();
      try (Connection standby = connect(servers.standbyUrl())) {
        assertEquals(serverAt(servers.standbyPort(), true), whichServer(standby));
        assertEquals("42", queryOne(standby, "SELECT x FROM replicated"));
        assertFails(
            "25006",
            "ERROR: cannot execute LISTEN during recovery",
            () -> execute(standby, "LISTEN somewhere"));
        assertFails(
            "25006",
            "ERROR: cannot execute NOTIFY during recovery",
            () -> queryOne(standby, "SELECT pg_notify('somewhere', 'something')"));
      }

      // While both run, targetServerType=primary finds the primary.
      try (Connection connection = connect(servers.multiHostUrl("primary") + TIMEOUTS)) {
        assertEquals(primary, whichServer(connection));
      }

      try (Connection listening = connect(servers.primaryUrl());
          Connection idle = connect(servers.primaryUrl())) {
        execute(listening, "LISTEN somewhere");
        execute(idle, "SELECT 1");
        long stopping = System.nanoTime();
        servers.stopPrimary();
        log.info("Primary stopped in {} ms", millisSince(stopping));

        // The sessions on the primary were ended by the fast shutdown: the first call on each reads
        // the server's last word. Waiting for notifications leaves the connection open in pgjdbc's
        // eyes, so the next call fails on the closed socket; a query closes it.
        PGConnection listener = listening.unwrap(PGConnection.class);
        assertFails("57P01", TERMINATED, () -> listener.getNotifications(100));
        assertFalse(listening.isClosed());
        SQLException next =
            assertFails(
                "08006",
                "An I/O error occurred while sending to the backend.",
                () -> queryOne(listening, "SELECT 1"));
        assertInstanceOf(EOFException.class, next.getCause());
        assertFails("57P01", TERMINATED, () -> queryOne(idle, "SELECT 1"));
        assertTrue(idle.isClosed());
      }

      // Between the primary's end and the promotion there is no primary to find, and pgjdbc says so
      // at once: the stopped server refuses the connection, the standby is not a primary.
      long connecting = System.nanoTime();
      assertFails(
          "08001",
          "Could not find a server with specified targetServerType: primary",
          () -> connect(servers.multiHostUrl("primary") + TIMEOUTS).close());
      long refusedAfter = millisSince(connecting);
      log.info("targetServerType=primary found no server in {} ms", refusedAfter);
      assertTrue(
          refusedAfter < TimeUnit.SECONDS.toMillis(CONNECT_TIMEOUT_SECONDS),
          () -> "refused only after " + refusedAfter + " ms");

      long promoting = System.nanoTime();
      servers.promoteStandby();
      log.info("Standby promoted in {} ms", millisSince(promoting));

      // The first attempt after the promotion finds the new primary: pgjdbc remembers the standby
      // as a secondary for hostRecheckSeconds, but when it remembers no host as a possible primary
      // it tries them all.
      try (Connection connection = connect(servers.multiHostUrl("primary") + TIMEOUTS)) {
        assertEquals(promoted, whichServer(connection));
        assertEquals("42", queryOne(connection, "SELECT x FROM replicated"));
        execute(connection, "LISTEN somewhere");
        execute(connection, "INSERT INTO replicated VALUES (43)");
      }
    }
  }

  @Test
  void aMovedEndpointEndsTheConnectionsToTheOldPrimaryAndLeadsNewOnesToTheNewOne()
      throws Exception {
    try (ReplicatedPostgres servers = ReplicatedPostgres.start();
        TcpProxy endpoint = new TcpProxy("127.0.0.1", servers.primaryPort(), TcpProxy.freePort())) {
      endpoint.start();
      String viaEndpoint =
          "jdbc:postgresql://127.0.0.1:"
              + endpoint.port()
              + "/"
              + ReplicatedPostgres.DATABASE
              + "?user="
              + ReplicatedPostgres.USER
              + TIMEOUTS;
      try (Connection old = connect(viaEndpoint)) {
        assertEquals(serverAt(servers.primaryPort(), false), whichServer(old));
        execute(old, "LISTEN somewhere");

        // The old primary keeps running, as one cut off from its clients but not stopped would.
        long promoting = System.nanoTime();
        servers.promoteStandby();
        log.info("Standby promoted, the primary still running, in {} ms", millisSince(promoting));
        endpoint.switchTarget("127.0.0.1", servers.standbyPort());

        PGConnection listener = old.unwrap(PGConnection.class);
        SQLException ended =
            assertFails(
                "08006",
                "An I/O error occurred while sending to the backend.",
                () -> listener.getNotifications(100));
        assertInstanceOf(EOFException.class, ended.getCause());
      }
      try (Connection moved = connect(viaEndpoint)) {
        assertEquals(serverAt(servers.standbyPort(), false), whichServer(moved));
        execute(moved, "LISTEN somewhere");
      }
      try (Connection stillThere = connect(servers.primaryUrl() + TIMEOUTS)) {
        assertEquals(
            serverAt(servers.primaryPort(), false),
            whichServer(stillThere),
            "the old primary runs on, a primary too");
      }
    }
  }

  private static SQLException assertFails(String sqlState, String message, Executable call) {
    SQLException failure = assertThrows(SQLException.class, call);
    assertEquals(sqlState + " " + message, failure.getSQLState() + " " + failure.getMessage());
    return failure;
  }

  private static String serverAt(int port, boolean inRecovery) {
    return "port " + port + ", in recovery: " + inRecovery;
  }

  private static String whichServer(Connection connection) throws SQLException {
    return queryOne(
        connection,
        "SELECT 'port ' || inet_server_port() || ', in recovery: ' || pg_is_in_recovery()");
  }

  private static Connection connect(String url) throws SQLException {
    return DriverManager.getConnection(url);
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static String queryOne(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(sql)) {
      assertTrue(rs.next(), sql);
      return rs.getString(1);
    }
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
