package io.github.pgdiscovery.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.PgBouncer;
import io.github.pgdiscovery.testing.PgBouncer.PoolMode;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a real PgBouncer does to the sessions and notifications this library relies on, established
 * with the {@link PgBouncer} fixture: which backend a client talks to, and which client a
 * notification reaches. In transaction mode a notification goes to whichever client holds the
 * listening server connection when it arrives, and is dropped (with a warning in PgBouncer's log)
 * when no client holds it; the LISTEN itself stays with the server connection.
 */
@DatabaseTest
final class PgBouncerFixtureTest {

  private static final Logger log = LoggerFactory.getLogger(PgBouncerFixtureTest.class);
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  /** How long a client listens for a notification that should not reach it. */
  private static final Duration SILENCE = Duration.ofSeconds(3);

  /** What PgBouncer logs when a server sends something while no client holds it. */
  private static final String DROPPED = "got packet 'A' from server when not linked";

  private final TestDatabase db;
  private final Resources resources = new Resources();

  PgBouncerFixtureTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() throws Exception {
    resources.close();
  }

  @Test
  void directlyTheBackendPidFromStartUpIsTheSessionsBackend() throws SQLException {
    Connection direct = resources.add(db.openConnection());
    assertEquals(startUpPid(direct), backendPid(direct));
  }

  @ParameterizedTest
  @EnumSource(PoolMode.class)
  void throughThePoolerTheBackendPidFromStartUpIsNotTheSessionsBackend(PoolMode mode)
      throws Exception {
    PgBouncer bouncer = start(PgBouncer.builder(db).poolMode(mode));
    Connection client = open(bouncer);

    int backend = backendPid(client);
    assertNotEquals(startUpPid(client), backend, bouncer::log);
    assertEquals(
        List.of(backend),
        bouncer.servers().stream().map(PgBouncer.Server::backendPid).toList(),
        "the admin console lists the one server connection, with the backend's pid");
    log.info(
        "{}: start-up pid {}, pg_backend_pid {}, {}",
        bouncer,
        startUpPid(client),
        backend,
        bouncer.pool());
  }

  @Test
  void sessionModeDeliversANotificationFromAnotherClientOfThePooler() throws Exception {
    PgBouncer bouncer = start(PgBouncer.builder(db).poolMode(PoolMode.SESSION));
    String channel = db.newChannelName();
    Connection a = open(bouncer);
    Connection b = open(bouncer);
    execute(a, "LISTEN " + channel);

    int sender = notify(b, channel, "from-b");

    List<String> heard = new ArrayList<>();
    Poll.until(
        DEADLINE,
        "A hears B",
        () -> collect(a, heard).contains("from-b@" + sender),
        heard::toString);
    assertNotEquals(backendPid(a), sender, "each client has a server connection of its own");
    PgBouncer.Pool pool = bouncer.pool().orElseThrow();
    assertEquals(2, pool.clientsActive(), pool::toString);
    assertEquals(2, pool.serversActive(), pool::toString);
  }

  /**
   * PgBouncer's defaults (server_round_robin=0, default_pool_size 20): with one client at a time,
   * one server connection serves them all, as the last released is taken first. So the listening
   * server connection goes from client to client, and a notification reaches whichever client is
   * using it at the time.
   */
  @Test
  void transactionModeHandsTheListeningServerToWhicheverClientComesNext() throws Exception {
    PgBouncer bouncer = start(PgBouncer.builder(db).poolMode(PoolMode.TRANSACTION));
    String channel = db.newChannelName();
    Connection a = open(bouncer);
    Connection b = open(bouncer);
    int listening = listen(a, channel);

    assertEquals(listening, backendPid(b), "B gets the server A listens on");
    notify(b, channel, "from-b");
    assertEquals(
        List.of("from-b@" + listening),
        collect(b, new ArrayList<>()),
        "B, which never listened, receives the notification meant for A");
    try (Connection outside = db.openConnection()) {
      notify(outside, channel, "from-outside");
    }
    assertEquals(List.of(), heardWithin(a, SILENCE), "A hears neither");
    Poll.until(
        DEADLINE,
        "PgBouncer logs the dropped one",
        () -> bouncer.log().contains(DROPPED),
        bouncer::log);

    notify(a, channel, "from-a");
    assertEquals(
        List.of("from-a@" + listening),
        collect(a, new ArrayList<>()),
        "A hears itself, as its statement ran on the listening server, and only that");
    assertEquals(1, bouncer.pool().orElseThrow().servers(), "two clients, one server connection");

    a.close();
    Connection c = open(bouncer);
    assertEquals(listening, notify(c, channel, "from-c"));
    assertEquals(
        List.of("from-c@" + listening),
        collect(c, new ArrayList<>()),
        "the LISTEN outlived A: transaction mode resets nothing when a client leaves");
    log.info("{}: listening on {}; log:\n{}", bouncer, listening, bouncer.log());
  }

  /**
   * A busy pool, made by two clients in a transaction at once, taken in turn
   * (server_round_robin=1): the client after A gets the other server connection, and a notification
   * sent there reaches nobody, as the listening one is in the pool, held by no client. A hears its
   * own notifications only when they happen to be sent on the listening one.
   */
  @Test
  void transactionModeRoundRobinDropsWhatArrivesWhileNoClientHoldsTheListeningServer()
      throws Exception {
    PgBouncer bouncer =
        start(
            PgBouncer.builder(db)
                .poolMode(PoolMode.TRANSACTION)
                .serverRoundRobin(true)
                .defaultPoolSize(2));
    String channel = db.newChannelName();
    Connection a = open(bouncer);
    Connection b = open(bouncer);
    a.setAutoCommit(false);
    b.setAutoCommit(false);
    assertNotEquals(backendPid(a), backendPid(b), "two transactions at once, two servers");
    a.commit();
    b.commit();
    a.setAutoCommit(true);
    b.setAutoCommit(true);
    assertEquals(2, bouncer.pool().orElseThrow().serversIdle(), bouncer::log);

    int listening = listen(a, channel);
    int other = notify(b, channel, "from-b");

    assertNotEquals(listening, other, "B gets the server connection A did not use last");
    assertEquals(List.of(), collect(b, new ArrayList<>()), "B does not get it either");
    assertEquals(List.of(), heardWithin(a, SILENCE), "A does not hear B");
    Poll.until(
        DEADLINE,
        "PgBouncer logs the dropped one",
        () -> bouncer.log().contains(DROPPED),
        bouncer::log);

    Set<String> sentOnListening = new HashSet<>();
    Set<Integer> usedByA = new HashSet<>();
    List<String> heard = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int server = notify(a, channel, "from-a-" + i);
      usedByA.add(server);
      if (server == listening) {
        sentOnListening.add("from-a-" + i + "@" + server);
      }
      collect(a, heard);
    }
    assertEquals(Set.of(listening, other), usedByA, "A's statements took both servers in turn");
    assertEquals(
        sentOnListening,
        Set.copyOf(heard),
        "A heard exactly those of its own sent on the listening server");
    log.info("{}: listening on {}, A heard {}; log:\n{}", bouncer, listening, heard, bouncer.log());
  }

  private PgBouncer start(PgBouncer.Builder builder) throws Exception {
    return resources.add(builder.start());
  }

  /**
   * A client of the pooler. Server-side prepared statements are off: pgjdbc would use one after a
   * statement's fifth execution, and in transaction mode the next execution may run on a server
   * connection that does not have it.
   */
  private Connection open(PgBouncer bouncer) throws SQLException {
    return resources.add(DriverManager.getConnection(bouncer.jdbcUrl() + "&prepareThreshold=0"));
  }

  /**
   * LISTEN and, in the same implicit transaction (one round trip, one Sync), the backend's pid: so
   * the pid is that of the server connection that listens, whatever the pooler does in between.
   */
  private static int listen(Connection connection, String channel) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("LISTEN " + channel + "; SELECT pg_backend_pid()");
      assertTrue(statement.getMoreResults(), "the SELECT's result");
      try (ResultSet rs = statement.getResultSet()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /** Sends {@code payload} on {@code channel}; returns the pid of the backend that sent it. */
  private static int notify(Connection connection, String channel, String payload)
      throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT pg_backend_pid(), pg_notify(?, ?)")) {
      statement.setString(1, channel);
      statement.setString(2, payload);
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static int backendPid(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** The process id the server (or the pooler) gave in its BackendKeyData at start-up. */
  private static int startUpPid(Connection connection) throws SQLException {
    return connection.unwrap(PGConnection.class).getBackendPID();
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  /**
   * Adds the notifications the driver has received so far, as "payload@sender pid", to {@code
   * heard}, and returns it. A notification that a client's own statement caused on its own server
   * connection comes before the statement's result, so it is there when the statement returns.
   */
  private static List<String> collect(Connection connection, List<String> heard) {
    try {
      PGNotification[] notifications = connection.unwrap(PGConnection.class).getNotifications();
      if (notifications != null) {
        for (PGNotification notification : notifications) {
          heard.add(notification.getParameter() + "@" + notification.getPID());
        }
      }
      return heard;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Everything {@code connection} receives in {@code window}: for notifications that must not come.
   */
  private static List<String> heardWithin(Connection connection, Duration window)
      throws SQLException {
    List<String> heard = new ArrayList<>();
    long end = System.nanoTime() + window.toNanos();
    while (System.nanoTime() - end < 0) {
      PGNotification[] notifications = connection.unwrap(PGConnection.class).getNotifications(100);
      if (notifications != null) {
        for (PGNotification notification : notifications) {
          heard.add(notification.getParameter() + "@" + notification.getPID());
        }
      }
    }
    return heard;
  }
}
