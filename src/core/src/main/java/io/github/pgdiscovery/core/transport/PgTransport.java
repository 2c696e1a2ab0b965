package io.github.pgdiscovery.core.transport;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The pgjdbc transport: one connection that listens on the discovery channels and notifies on them
 * with {@code SELECT pg_notify(?, ?)}. Not thread-safe: it belongs to the runtime's connection
 * thread alone.
 */
public final class PgTransport implements Transport {

  private final Connection connection;
  private final PGConnection pg;
  private final PreparedStatement notify;
  private final PreparedStatement notifyBatch;

  private PgTransport(Connection connection) throws SQLException {
    this.connection = connection;
    this.pg = connection.unwrap(PGConnection.class);
    this.notify = connection.prepareStatement("SELECT pg_notify(?, ?)");
    // pg_notify queues in call order; the ordinality keeps the calls in array order.
    this.notifyBatch =
        connection.prepareStatement(
            "SELECT pg_notify(n.channel, n.payload) FROM unnest(?::text[], ?::text[]) WITH ORDINALITY"
                + " AS n(channel, payload, ord) ORDER BY n.ord");
  }

  /**
   * Connects with {@code settings}; the session's application_name is the adapter's application
   * name.
   */
  public static PgTransport open(DiscoverySettings settings) throws SQLException {
    DiscoverySettings.Database database = settings.database();
    Properties properties = new Properties();
    // Defaults only: options given in the URL take precedence over these.
    if (database.user() != null && !database.user().isEmpty()) {
      properties.setProperty("user", database.user());
    }
    // Read at every connect: a password file may hold a credential that rotates (a mounted secret).
    String password = database.currentPassword(settings.naming());
    if (password != null && !password.isEmpty()) {
      properties.setProperty("password", password);
    }
    long timeoutSeconds = Math.max(1, database.connectTimeout().toSeconds());
    properties.setProperty("ApplicationName", settings.naming().applicationName());
    properties.setProperty("connectTimeout", Long.toString(timeoutSeconds));
    properties.setProperty("loginTimeout", Long.toString(timeoutSeconds));
    properties.setProperty("tcpKeepAlive", "true");
    Connection connection = new org.postgresql.Driver().connect(database.url(), properties);
    if (connection == null) {
      throw new SQLException(
          "not a PostgreSQL JDBC URL: " + DiscoverySettings.redactUrl(database.url()));
    }
    try {
      connection.setAutoCommit(true);
      // Bounds every statement's round trip, so a connection that went silent fails instead of
      // hanging.
      connection.setNetworkTimeout(Runnable::run, (int) database.connectTimeout().toMillis());
      return new PgTransport(connection);
    } catch (SQLException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  /** {@code channel} must be a valid identifier ({@link DiscoverySettings#isValidChannel}). */
  @Override
  public void listen(String channel) throws SQLException {
    if (!DiscoverySettings.isValidChannel(channel)) {
      throw new IllegalArgumentException("not a valid channel name: " + channel);
    }
    try (Statement statement = connection.createStatement()) {
      // Validated to contain no quote; quoting keeps the name's case, as pg_notify does.
      statement.execute("LISTEN \"" + channel + "\"");
    }
  }

  @Override
  public void unlisten(String channel) throws SQLException {
    if (!DiscoverySettings.isValidChannel(channel)) {
      throw new IllegalArgumentException("not a valid channel name: " + channel);
    }
    try (Statement statement = connection.createStatement()) {
      statement.execute("UNLISTEN \"" + channel + "\"");
    }
  }

  @Override
  public Session session() throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT pg_backend_pid(), pg_is_in_recovery()")) {
      row.next();
      return new Session(row.getInt(1), row.getBoolean(2));
    }
  }

  @Override
  public void send(List<Outgoing> notifications) throws SQLException {
    if (notifications.isEmpty()) {
      return;
    }
    // pg_notify returns void: the rows carry nothing.
    if (notifications.size() == 1) {
      notify.setString(1, notifications.get(0).channel());
      notify.setString(2, notifications.get(0).payload());
      notify.executeQuery().close();
      return;
    }
    String[] channels = new String[notifications.size()];
    String[] payloads = new String[notifications.size()];
    for (int i = 0; i < channels.length; i++) {
      channels[i] = notifications.get(i).channel();
      payloads[i] = notifications.get(i).payload();
    }
    notifyBatch.setArray(1, connection.createArrayOf("text", channels));
    notifyBatch.setArray(2, connection.createArrayOf("text", payloads));
    notifyBatch.executeQuery().close();
  }

  @Override
  public List<String> poll(int timeoutMillis) throws SQLException {
    return payloads(pg.getNotifications(timeoutMillis));
  }

  @Override
  public List<String> arrived() throws SQLException {
    // Without a timeout pgjdbc returns at once: what it queued while a statement ran, and what it
    // can read from the socket without blocking.
    return payloads(pg.getNotifications());
  }

  private static List<String> payloads(PGNotification[] notifications) {
    if (notifications == null || notifications.length == 0) {
      return List.of();
    }
    List<String> payloads = new ArrayList<>(notifications.length);
    for (PGNotification notification : notifications) {
      payloads.add(notification.getParameter());
    }
    return payloads;
  }

  @Override
  public boolean isValid(int timeoutSeconds) throws SQLException {
    return connection.isValid(timeoutSeconds);
  }

  @Override
  public int backendPid() {
    return pg.getBackendPID();
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException | RuntimeException ignored) {
      // Closing a connection that already broke; nothing to do.
    }
  }
}
