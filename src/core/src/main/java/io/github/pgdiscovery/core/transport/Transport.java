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

  /** Stops listening on {@code channel}, a valid identifier. */
  void unlisten(String channel) throws SQLException;

  /**
   * What the server says of the session this connection is on now.
   *
   * @param processId the server process that ran this query ({@code pg_backend_pid()}); behind a
   *     pooler it differs from the {@link #backendPid()} the client was given at start
   * @param inRecovery {@code pg_is_in_recovery()}: the server is a standby, where LISTEN and NOTIFY
   *     are refused
   */
  record Session(int processId, boolean inRecovery) {}

  /** Asks the server which process serves this connection and whether it is in recovery. */
  Session session() throws SQLException;

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

  /**
   * The payloads of notifications that have reached this client and are not read yet, without
   * waiting: those that came in while a statement ran, and those already in the socket's buffer.
   */
  List<String> arrived() throws SQLException;

  /** A round trip to the server, bounded by {@code timeoutSeconds}. */
  boolean isValid(int timeoutSeconds) throws SQLException;

  /**
   * The server process id the client was given when it connected (BackendKeyData), for operators
   * and tests. A pooler hands out an id of its own.
   */
  int backendPid();

  /** Closes the connection; never throws. */
  @Override
  void close();
}
