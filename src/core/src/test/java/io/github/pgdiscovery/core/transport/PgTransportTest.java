package io.github.pgdiscovery.core.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.ChannelTap;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pgjdbc transport against a real PostgreSQL: what one call to send puts on the channels. */
@DatabaseTest
final class PgTransportTest {

  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final TestDatabase db;

  PgTransportTest(TestDatabase db) {
    this.db = db;
  }

  private PgTransport open(String channel) throws SQLException {
    return PgTransport.open(
        DiscoverySettings.builder(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .channel(channel)
            .build());
  }

  @Test
  void aBatchArrivesWholeAndInOrderOnEachOfItsChannels() throws Exception {
    String first = db.newChannelName();
    String second = db.newChannelName();
    try (ChannelTap tapFirst = new ChannelTap(db, first);
        ChannelTap tapSecond = new ChannelTap(db, second);
        PgTransport transport = open(first)) {
      transport.send(
          List.of(
              new Transport.Outgoing(first, "a1"),
              new Transport.Outgoing(second, "b1"),
              new Transport.Outgoing(first, "a2"),
              new Transport.Outgoing(first, "a3"),
              new Transport.Outgoing(second, "b2")));

      assertEquals(List.of("a1", "a2", "a3"), heard(tapFirst, 3));
      assertEquals(List.of("b1", "b2"), heard(tapSecond, 2));
    }
  }

  @Test
  void whatCameInWhileAStatementRanIsReadWithoutWaiting() throws Exception {
    String channel = db.newChannelName();
    String other = db.newChannelName();
    try (PgTransport listener = open(channel);
        PgTransport sender = open(channel)) {
      listener.listen(channel);
      sender.send(channel, "while-busy");
      List<String> read = new ArrayList<>();
      // The listener's own statement takes the notification in with its answer; arrived() hands it
      // over at once. (The server signals the listener's backend at the sender's commit; in the
      // rare case the signal is late, the next statement brings it.)
      Poll.until(
          DEADLINE,
          "arrived() returns the notification that came in with the listener's own statement",
          () -> {
            try {
              listener.send(other, "own statement");
              read.addAll(listener.arrived());
            } catch (SQLException e) {
              throw new AssertionError(e);
            }
            return read.contains("while-busy");
          },
          () -> read);
      assertEquals(List.of(), listener.arrived(), "nothing more arrived");
    }
  }

  @Test
  void aBatchIsOneTransactionSoANotificationTheServerRefusesSendsNoneOfIt() throws Exception {
    String channel = db.newChannelName();
    try (ChannelTap tap = new ChannelTap(db, channel);
        PgTransport transport = open(channel)) {
      // PostgreSQL refuses a payload of 8000 bytes or more.
      SQLException refused =
          assertThrows(
              SQLException.class,
              () ->
                  transport.send(
                      List.of(
                          new Transport.Outgoing(channel, "before"),
                          new Transport.Outgoing(channel, "x".repeat(8000)))));
      assertEquals("22023", refused.getSQLState(), refused::getMessage);

      transport.send(channel, "marker");
      assertEquals(
          List.of("marker"),
          heard(tap, 1),
          "what came before the refused one was rolled back with it");
    }
  }

  private static List<String> heard(ChannelTap tap, int count) {
    List<String> heard = new ArrayList<>();
    Poll.until(
        DEADLINE,
        count + " notifications",
        () -> {
          try {
            heard.clear();
            heard.addAll(tap.heard(100));
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
          return heard.size() >= count;
        },
        () -> heard);
    return heard;
  }
}
