package io.github.pgdiscovery.core;

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
 * One pgjdbc connection that listens on the discovery channels and notifies on them. Not thread-safe: it belongs to
 * the engine's connection thread alone.
 */
final class ChannelConnection implements AutoCloseable {

  static final String APPLICATION_NAME = "akka-discovery-postgres";


  private final Connection connection;
  private final PGConnection pg;
  private final PreparedStatement notify;

  private ChannelConnection(Connection connection) throws SQLException {
    this.connection = connection;
    this.pg = connection.unwrap(PGConnection.class);
    this.notify = connection.prepareStatement("SELECT pg_notify(?, ?)");
  }

  static ChannelConnection open(EngineSettings settings) throws SQLException {
    Properties properties = new Properties();
    // Defaults only: options given in the URL take precedence over these.
    if (settings.user() != null && !settings.user().isEmpty()) {
      properties.setProperty("user", settings.user());
    }
    if (settings.password() != null && !settings.password().isEmpty()) {
      properties.setProperty("password", settings.password());
    }
    long timeoutSeconds = Math.max(1, settings.connectTimeout().toSeconds());
    properties.setProperty("ApplicationName", APPLICATION_NAME);
    properties.setProperty("connectTimeout", Long.toString(timeoutSeconds));
    properties.setProperty("loginTimeout", Long.toString(timeoutSeconds));
    properties.setProperty("tcpKeepAlive", "true");
    Connection connection = new org.postgresql.Driver().connect(settings.url(), properties);
    if (connection == null) {
      throw new SQLException("not a PostgreSQL JDBC URL: " + EngineSettings.redactUrl(settings.url()));
    }
    try {
      connection.setAutoCommit(true);
      // Bounds every statement's round trip, so a connection that went silent fails instead of hanging.
      connection.setNetworkTimeout(Runnable::run, (int) settings.connectTimeout().toMillis());
      return new ChannelConnection(connection);
    } catch (SQLException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  /** {@code channel} must be a valid identifier ({@link EngineSettings#isValidChannel}). */
  void listen(String channel) throws SQLException {
    if (!EngineSettings.isValidChannel(channel)) {
      throw new IllegalArgumentException("not a valid channel name: " + channel);
    }
    try (Statement statement = connection.createStatement()) {
      // Validated to contain no quote; quoting keeps the name's case, as pg_notify does.
      statement.execute("LISTEN \"" + channel + "\"");
    }
  }

  void send(String channel, String payload) throws SQLException {
    notify.setString(1, channel);
    notify.setString(2, payload);
    // pg_notify returns void: the one row carries nothing.
    ResultSet result = notify.executeQuery();
    result.close();
  }

  /** Waits up to {@code timeoutMillis} for notifications and returns their payloads, possibly none. */
  List<String> poll(int timeoutMillis) throws SQLException {
    PGNotification[] notifications = pg.getNotifications(timeoutMillis);
    if (notifications == null || notifications.length == 0) {
      return List.of();
    }
    List<String> payloads = new ArrayList<>(notifications.length);
    for (PGNotification notification : notifications) {
      payloads.add(notification.getParameter());
    }
    return payloads;
  }

  /** A round trip to the server, bounded by {@code timeoutSeconds}. */
  boolean isValid(int timeoutSeconds) throws SQLException {
    return connection.isValid(timeoutSeconds);
  }

  int backendPid() {
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
