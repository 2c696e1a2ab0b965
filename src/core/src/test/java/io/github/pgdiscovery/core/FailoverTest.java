package io.github.pgdiscovery.core;

import static io.github.pgdiscovery.core.Participants.awaitPorts;

import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.ReplicatedPostgres;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A failover under a formed cluster, with a real primary and its streaming standby: the primary
 * stops, the standby is promoted, and every member reconnects to it, through a URL that lists both
 * servers with {@code targetServerType=primary} or through one endpoint that moves to the new
 * primary (a writer endpoint, a DNS name). Notifications are not replicated, so the new primary
 * starts with no listener: a node that starts afterwards must still be told of every member, which
 * shows that the view was rebuilt there. Default backoff (200 ms doubling to 10 s), as users run
 * it; the reconnect times are logged.
 */
@DatabaseTest
final class FailoverTest {

  private static final Logger log = LoggerFactory.getLogger(FailoverTest.class);
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final Set<Integer> MEMBERS = Set.of(9931, 9932, 9933);
  private static final Set<Integer> ALL = Set.of(9931, 9932, 9933, 9934);

  private final TestDatabase db;
  private final Resources resources = new Resources();
  private Participants nodes;

  FailoverTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() throws Exception {
    resources.close();
  }

  @Test
  void throughAMultiHostUrlEveryMemberFollowsThePromotionAndANewcomerIsToldOfAll()
      throws Exception {
    ReplicatedPostgres servers = resources.add(ReplicatedPostgres.start());
    List<DiscoveryEngine> members = formedCluster(servers.multiHostUrl("primary"));

    servers.stopPrimary();
    long stopped = System.nanoTime();
    servers.promoteStandby();
    long promoted = System.nanoTime();

    Map<Integer, Long> afterPromotion = awaitReconnected(members, promoted);
    log.info(
        "Multi-host URL: promotion {} ms after the primary stopped; each member back, in ms after"
            + " the promotion (polled in turn), {}",
        TimeUnit.NANOSECONDS.toMillis(promoted - stopped),
        afterPromotion);
    newcomerIsToldOfEveryMember(members);
  }

  @Test
  void throughAnEndpointThatMovesEveryMemberFollowsItAndANewcomerIsToldOfAll() throws Exception {
    ReplicatedPostgres servers = resources.add(ReplicatedPostgres.start());
    TcpProxy endpoint =
        resources.add(new TcpProxy("127.0.0.1", servers.primaryPort(), TcpProxy.freePort()));
    endpoint.start();
    List<DiscoveryEngine> members =
        formedCluster("jdbc:postgresql://127.0.0.1:" + endpoint.port() + "/postgres?user=postgres");

    servers.stopPrimary();
    servers.promoteStandby();
    endpoint.switchTarget("127.0.0.1", servers.standbyPort());
    long moved = System.nanoTime();

    Map<Integer, Long> afterMove = awaitReconnected(members, moved);
    log.info(
        "Moved endpoint: each member back, in ms after the endpoint moved (polled in turn), {}",
        afterMove);
    newcomerIsToldOfEveryMember(members);
  }

  /** Three nodes that found each other and are members of one cluster, as their cluster says. */
  private List<DiscoveryEngine> formedCluster(String url) {
    nodes = resources.add(new Participants(db, url, db.newChannelName()));
    List<DiscoveryEngine> members = MEMBERS.stream().sorted().map(nodes::start).toList();
    for (DiscoveryEngine member : members) {
      awaitPorts(member, MEMBERS);
    }
    for (DiscoveryEngine member : members) {
      for (DiscoveryEngine up : members) {
        member.memberUp(up.self().address(), up.self().uid());
      }
    }
    return members;
  }

  private static Map<Integer, Long> awaitReconnected(List<DiscoveryEngine> members, long since) {
    Map<Integer, Long> millis = new LinkedHashMap<>();
    for (DiscoveryEngine member : members) {
      Poll.until(
          DEADLINE,
          member.self().port() + " reconnected to the new primary",
          () ->
              member.status().reconnects() == 1
                  && member.status().state() == ConnectionState.CONNECTED,
          member::status);
      millis.put(member.self().port(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since));
    }
    return millis;
  }

  private void newcomerIsToldOfEveryMember(List<DiscoveryEngine> members) {
    DiscoveryEngine newcomer = nodes.start(9934);
    awaitPorts(newcomer, ALL);
    for (DiscoveryEngine member : members) {
      awaitPorts(member, ALL);
    }
  }
}
