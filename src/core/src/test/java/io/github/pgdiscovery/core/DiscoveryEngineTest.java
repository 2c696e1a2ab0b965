package io.github.pgdiscovery.core;

import static io.github.pgdiscovery.core.Participants.awaitPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.protocol.MessageCodec;
import io.github.pgdiscovery.core.protocol.PeerTable;
import io.github.pgdiscovery.core.protocol.ReplyChannel;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.ChannelTap;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The protocol engine against a real PostgreSQL, without Akka. */
@DatabaseTest
final class DiscoveryEngineTest {

  private static final Duration DEADLINE = Duration.ofSeconds(10);
  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(5);

  private final TestDatabase db;
  private final Participants participants;

  DiscoveryEngineTest(TestDatabase db) {
    this.db = db;
    this.participants = new Participants(db);
  }

  @AfterEach
  void stopParticipants() {
    participants.close();
  }

  @Test
  void twoParticipantsSeeEachOther() {
    DiscoveryEngine a = participants.start(9001);
    DiscoveryEngine b = participants.start(9002);

    awaitPorts(a, Set.of(9001, 9002));
    awaitPorts(b, Set.of(9001, 9002));
  }

  @Test
  void tenParticipantsConverge() {
    Set<Integer> all = IntStream.rangeClosed(9101, 9110).boxed().collect(Collectors.toSet());
    List<DiscoveryEngine> engines = all.stream().sorted().map(participants::start).toList();

    for (DiscoveryEngine engine : engines) {
      awaitPorts(engine, all);
    }
  }

  @Test
  void lateJoinerSeesAllPeersOnItsFirstAnswerWithoutWaitingForHeartbeat() throws Exception {
    // Heartbeats are a minute apart: only the replies to the newcomer's probe can tell it about the
    // others.
    participants.start(9201);
    participants.start(9202);
    DiscoveryEngine third = participants.start(9203);
    awaitPorts(third, Set.of(9201, 9202, 9203));

    DiscoveryEngine late = participants.start(9204);

    assertEquals(
        Set.of(9201, 9202, 9203, 9204),
        ports(late.contactPoints(Participants.SERVICE, LOOKUP_TIMEOUT).get(10, TimeUnit.SECONDS)));
  }

  @Test
  void probeRepliesReachOnlyTheProberNotTheWholeChannel() throws Exception {
    participants.start(9251);
    participants.start(9252);
    awaitPorts(participants.start(9253), Set.of(9251, 9252, 9253));
    try (ChannelTap tap = new ChannelTap(db, participants.channel())) {
      DiscoveryEngine late = participants.start(9254);
      awaitPorts(late, Set.of(9251, 9252, 9253, 9254));

      List<String> broadcast = tap.heard(200);
      assertEquals(2, broadcast.size(), "only the newcomer's announce and probe: " + broadcast);
      assertTrue(
          broadcast.stream().allMatch(payload -> payload.contains(late.self().incarnation())),
          broadcast::toString);
    }
  }

  @Test
  void aJoinIsAnsweredByTwoRespondersRostersNotByEveryResident() throws Exception {
    List<DiscoveryEngine> residents = new ArrayList<>();
    Set<Integer> all = new TreeSet<>();
    for (int port = 9261; port <= 9266; port++) {
      residents.add(participants.start(port));
      all.add(port);
    }
    for (DiscoveryEngine resident : residents) {
      awaitPorts(resident, all);
    }
    long sentBefore = residents.stream().mapToLong(r -> r.status().sent()).sum();

    DiscoveryEngine late = participants.start(9267);
    all.add(9267);
    awaitPorts(late, all);
    for (DiscoveryEngine resident : residents) {
      awaitPorts(resident, all);
    }

    // Heartbeats are a minute apart: what the residents sent is their answer to the probe, one
    // roster part each
    // from the first two, nothing from the other four.
    long sent = residents.stream().mapToLong(r -> r.status().sent()).sum() - sentBefore;
    assertEquals(2, sent, "roster parts the residents sent for one join");
  }

  @Test
  void replyChannelIsAValidIdentifierDerivedFromChannelAndIncarnation() {
    String reply = ReplyChannel.of("akka_discovery", "3f1c9a7e");

    assertTrue(DiscoverySettings.isValidChannel(reply), reply);
    assertEquals(reply, ReplyChannel.of("akka_discovery", "3f1c9a7e"));
    assertTrue(!reply.equals(ReplyChannel.of("other_channel", "3f1c9a7e")));
  }

  @Test
  void goodbyeRemovesPeerAtOnceWithoutWaitingForExpiry() {
    DiscoveryEngine stays = participants.start(9301);
    DiscoveryEngine leaves = participants.start(9302);
    awaitPorts(stays, Set.of(9301, 9302));

    leaves.close();

    awaitPorts(stays, Set.of(9301));
  }

  @Test
  void stopAnnouncingSaysGoodbyeButKeepsListening() {
    DiscoveryEngine stays = participants.start(9351);
    DiscoveryEngine removed = participants.start(9352);
    awaitPorts(stays, Set.of(9351, 9352));

    removed.stopAnnouncing();
    awaitPorts(stays, Set.of(9351));
    DiscoveryEngine newcomer = participants.start(9353);

    awaitPorts(removed, Set.of(9351, 9352, 9353));
    awaitPorts(newcomer, Set.of(9351, 9353));
  }

  @Test
  void silentPeerExpires() throws Exception {
    DiscoveryEngine listener =
        participants.start(9401, s -> s.timings(Duration.ofMillis(200), Duration.ofMillis(800)));
    awaitPorts(listener, Set.of(9401));

    // A peer that announces once and then falls silent, as a crashed node does.
    notify(new MessageCodec().encode(new Message.Announce(Participants.announcement(9402))));
    awaitPorts(listener, Set.of(9401, 9402));

    awaitPorts(listener, Set.of(9401));
    assertEquals(
        Set.of(9401),
        ports(
            listener
                .contactPoints(Participants.SERVICE, LOOKUP_TIMEOUT)
                .get(10, TimeUnit.SECONDS)));
  }

  @Test
  void joinedPeerStatesItsLongerIntervalAndOutlivesTheReceiversPlainExpiry() throws Exception {
    UnaryOperator<DiscoverySettings.Builder> timings =
        s ->
            s.timings(Duration.ofMillis(200), Duration.ofMillis(600))
                .joinedHeartbeatInterval(Duration.ofSeconds(2));
    DiscoveryEngine listener = participants.start(9451, timings);
    DiscoveryEngine member = participants.start(9452, timings);
    awaitPorts(listener, Set.of(9451, 9452));

    try (ChannelTap tap = new ChannelTap(db, participants.channel())) {
      member.joined();
      String stated = "\"ivl\":2000";
      List<String> heard = new ArrayList<>();
      Poll.until(
          DEADLINE,
          "an announcement of the joined node stating " + stated,
          () -> {
            heard.addAll(tapped(tap));
            return heard.stream()
                .anyMatch(p -> p.contains(member.self().incarnation()) && p.contains(stated));
          },
          () -> heard);
    }
    assertEquals(Duration.ofSeconds(2), member.status().heartbeatInterval());

    // Announcing every 2 s, the member goes unheard for longer than the listener's expire-after
    // (600 ms) between
    // two heartbeats; the listener must keep it, as the member told it its interval.
    Poll.until(
        DEADLINE,
        "the listener still to list the member after more than 600 ms without hearing it",
        () -> {
          PeerTable.HeardPeer peer =
              listener.status().peers().stream()
                  .filter(p -> p.node().port() == 9452)
                  .findFirst()
                  .orElseThrow(() -> new AssertionError("the listener dropped the joined member"));
          return peer.ageMillis() > 600;
        },
        () -> listener.status().peers());
  }

  @Test
  void reconnectsAfterBackendIsTerminatedAndLearnsPeersThatJoinedDuringTheOutage()
      throws Exception {
    // A fixed 3 s backoff keeps the victim away long enough for a newcomer to join while it is
    // gone.
    DiscoveryEngine victim =
        participants.start(
            9501, s -> s.reconnectBackoff(Duration.ofSeconds(3), Duration.ofSeconds(3)));
    participants.start(9502);
    awaitPorts(victim, Set.of(9501, 9502));

    assertTrue(db.terminateBackend(victim.backendPid().orElseThrow()));
    Poll.until(
        DEADLINE, "victim notices the lost connection", () -> !victim.isReady(), victim::status);
    ExecutionException outage =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class,
            () ->
                victim
                    .contactPoints(Participants.SERVICE, Duration.ofMillis(100))
                    .get(10, TimeUnit.SECONDS));
    assertInstanceOf(NotReadyException.class, outage.getCause());

    // The newcomer's responder still vouches for the victim (alive, and within its expiry), so the
    // newcomer may
    // list it before the victim is back; that it answers with the other two is what counts here.
    DiscoveryEngine newcomer = participants.start(9503);
    Poll.until(
        DEADLINE,
        "the newcomer answers with the resident and itself",
        () -> Participants.ports(newcomer).containsAll(Set.of(9502, 9503)),
        newcomer::status);

    awaitPorts(victim, Set.of(9501, 9502, 9503));
    awaitPorts(newcomer, Set.of(9501, 9502, 9503));
    assertEquals(1, victim.status().reconnects());
    assertEquals(ConnectionState.CONNECTED, victim.status().state());
  }

  @Test
  void lookupFailsWithNotReadyWhileDatabaseIsUnreachable() {
    DiscoveryEngine stranded =
        participants.start(9601, s -> s.url("jdbc:postgresql://127.0.0.1:1/none"));

    ExecutionException failure =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class,
            () ->
                stranded
                    .contactPoints(Participants.SERVICE, Duration.ofMillis(300))
                    .get(10, TimeUnit.SECONDS));

    assertInstanceOf(NotReadyException.class, failure.getCause());
    assertTrue(
        failure.getCause().getMessage().contains("not connected"), failure.getCause().getMessage());
  }

  @Test
  void oneConnectionPerParticipant() throws Exception {
    // Counted on the server, not from what the engines report about themselves. Other test classes'
    // engines may
    // still hold (or be closing) sessions with the same application_name on this shared server, so
    // these two
    // engines reach the database through a proxy of their own: the server sees the proxy's end of
    // each link as
    // the client address and port of the session, so the sessions whose client address and port are
    // the proxy's
    // are those opened by these engines and nobody else. A second connection of either engine, for
    // listening or
    // for sending, would be among them.
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port(), TcpProxy.freePort());
        Participants viaProxy =
            new Participants(db, db.jdbcUrlVia(proxy.port()), db.newChannelName())) {
      proxy.start();
      DiscoveryEngine a = viaProxy.start(9701);
      DiscoveryEngine b = viaProxy.start(9702);
      awaitPorts(a, Set.of(9701, 9702));
      awaitPorts(b, Set.of(9701, 9702));

      List<InetSocketAddress> links = proxy.upstreamLocalAddresses();
      Map<Integer, String> sessions = sessionsFrom(links);
      String application = DiscoverySettings.Naming.NEUTRAL.applicationName();
      assertEquals(
          new TreeMap<>(
              Map.of(
                  a.backendPid().orElseThrow(),
                  application,
                  b.backendPid().orElseThrow(),
                  application)),
          sessions,
          "sessions (pid=application_name) in pg_stat_activity opened through the engines' proxy");
      assertEquals(2, links.size(), "connections the engines opened through their proxy: " + links);
    }
  }

  private static List<String> tapped(ChannelTap tap) {
    try {
      return tap.heard(50);
    } catch (SQLException e) {
      throw new AssertionError("channel tap failed", e);
    }
  }

  private void notify(String payload) throws Exception {
    try (Connection connection = db.openConnection();
        PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
      statement.setString(1, participants.channel());
      statement.setString(2, payload);
      statement.execute();
    }
  }

  /**
   * pid and application_name of every session in pg_stat_activity whose client end is one of {@code
   * clients}.
   */
  private Map<Integer, String> sessionsFrom(List<InetSocketAddress> clients) throws SQLException {
    Map<Integer, String> sessions = new TreeMap<>();
    try (Connection connection = db.openConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT pid, application_name, host(client_addr), client_port FROM pg_stat_activity"
                    + " WHERE client_port = ANY (?)")) {
      statement.setArray(
          1,
          connection.createArrayOf(
              "int4", clients.stream().map(InetSocketAddress::getPort).toArray()));
      try (ResultSet rs = statement.executeQuery()) {
        while (rs.next()) {
          // host() gives the address as text; a literal, so no name lookup.
          InetSocketAddress client =
              new InetSocketAddress(InetAddress.getByName(rs.getString(3)), rs.getInt(4));
          if (clients.contains(client)) {
            sessions.put(rs.getInt(1), rs.getString(2));
          }
        }
      }
    } catch (UnknownHostException e) {
      throw new AssertionError("pg_stat_activity gave a client address that is not a literal", e);
    }
    return sessions;
  }

  private static Set<Integer> ports(List<Announcement> contactPoints) {
    return contactPoints.stream()
        .map(Announcement::port)
        .collect(Collectors.toCollection(TreeSet::new));
  }
}
