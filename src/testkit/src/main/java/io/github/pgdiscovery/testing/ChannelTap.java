package io.github.pgdiscovery.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * A plain JDBC session on a test channel: records what is said there, and says anything, as an
 * attacker could.
 */
public final class ChannelTap implements AutoCloseable {

  private static final int BATCH = 500;

  private final Connection connection;
  private final String channel;
  private final List<String> heard = new ArrayList<>();

  public ChannelTap(TestDatabase db, String channel) throws SQLException {
    this.connection = db.openConnection();
    this.channel = channel;
    try (Statement statement = connection.createStatement()) {
      statement.execute("LISTEN \"" + channel + "\"");
    }
  }

  /** Everything heard so far, in order, after waiting up to {@code timeoutMillis} for more. */
  public List<String> heard(int timeoutMillis) throws SQLException {
    PGNotification[] notifications =
        connection.unwrap(PGConnection.class).getNotifications(timeoutMillis);
    if (notifications != null) {
      for (PGNotification notification : notifications) {
        heard.add(notification.getParameter());
      }
    }
    return List.copyOf(heard);
  }

  /**
   * Sends each payload as its own notification, with bind parameters, in batches of one statement
   * each.
   */
  public void send(List<String> payloads) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT pg_notify(?, payload) FROM unnest(?::text[]) AS payload")) {
      for (int from = 0; from < payloads.size(); from += BATCH) {
        List<String> batch = payloads.subList(from, Math.min(payloads.size(), from + BATCH));
        statement.setString(1, channel);
        statement.setArray(2, connection.createArrayOf("text", batch.toArray()));
        statement.execute();
      }
    }
  }

  public void send(String payload) throws SQLException {
    send(List.of(payload));
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
