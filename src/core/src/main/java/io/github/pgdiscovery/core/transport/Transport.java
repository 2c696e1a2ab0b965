package io.github.pgdiscovery.core.transport;

import java.sql.SQLException;
import java.util.List;

/**
 * One connection to the database that listens on channels and notifies on them: all the I/O the
 * protocol needs. Not thread-safe: it belongs to the runtime's connection thread alone.
 */
public interface Transport extends AutoCloseable {

  /**
   * LISTEN on {@code channel}, a valid identifier; what commits after this returns is delivered.
   */
  void listen(String channel) throws SQLException;

  /** A notification to send: a valid channel name and its payload. */
  record Outgoing(String channel, String payload) {}

  /**
   * NOTIFY each of {@code notifications}, in order, in one transaction, committed when this
   * returns. PostgreSQL wakes each listening session once per committed transaction, not once per
   * notification, so one protocol step's messages (a roster's parts, an announcement and a probe)
   * cost the server one round of wake-ups.
   */
  void send(List<Outgoing> notifications) throws SQLException;

  /** NOTIFY {@code channel} with {@code payload}, committed when this returns. */
  default void send(String channel, String payload) throws SQLException {
    send(List.of(new Outgoing(channel, payload)));
  }

  /**
   * Waits up to {@code timeoutMillis} (at least 1) for notifications and returns their payloads,
   * possibly none.
   */
  List<String> poll(int timeoutMillis) throws SQLException;

  /** A round trip to the server, bounded by {@code timeoutSeconds}. */
  boolean isValid(int timeoutSeconds) throws SQLException;

  /** The server process id of this connection, for operators and tests. */
  int backendPid();

  /** Closes the connection; never throws. */
  @Override
  void close();
}
