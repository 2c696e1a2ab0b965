package io.github.pgdiscovery.pekko;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.discovery.Discovery;
import org.apache.pekko.discovery.Lookup;
import org.apache.pekko.discovery.ServiceDiscovery;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;

/**
 * The discovery method as Pekko loads it: start-up checks, and lookups that fail rather than
 * mislead.
 */
@DatabaseTest
final class PekkoDiscoveryStartTest {

  private static final String UNREACHABLE = "jdbc:postgresql://127.0.0.1:1/db";

  private ActorSystem system;

  @AfterEach
  void terminate() {
    if (system != null) {
      TestKit.shutdownActorSystem(system);
    }
  }

  @Test
  void badChannelFailsWhenDiscoveryLoadsNamingThePekkoKeyAndValue() {
    system =
        ActorSystem.create(
            "BadChannel", PekkoNodes.standalone(null, UNREACHABLE, "my-channel;drop", 7626));

    ConfigException error =
        assertThrows(
            ConfigException.class, () -> Discovery.get(system).loadServiceDiscovery("postgres"));

    assertTrue(error.getMessage().contains("pekko.discovery.postgres.channel"), error.getMessage());
    assertTrue(error.getMessage().contains("my-channel;drop"), error.getMessage());
  }

  @Test
  void missingUrlNamesThePekkoEnvironmentVariable() {
    system = ActorSystem.create("NoUrl", PekkoNodes.standalone(null, "", "pekko_discovery", 7626));

    ConfigException error =
        assertThrows(
            ConfigException.class, () -> Discovery.get(system).loadServiceDiscovery("postgres"));

    assertTrue(error.getMessage().contains("pekko.discovery.postgres.url"), error.getMessage());
    assertTrue(error.getMessage().contains("PEKKO_DISCOVERY_POSTGRES_URL"), error.getMessage());
  }

  @Test
  void scalaLookupFailsWithPekkosDiscoveryTimeoutItselfWhileTheDatabaseIsUnreachable()
      throws Exception {
    system =
        ActorSystem.create(
            "NoDatabase", PekkoNodes.standalone(null, UNREACHABLE, "pekko_discovery", 7626));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    Future<ServiceDiscovery.Resolved> lookup =
        discovery.lookup(
            Lookup.create("nodatabase"), FiniteDuration.create(300, TimeUnit.MILLISECONDS));
    Await.ready(lookup, FiniteDuration.create(10, TimeUnit.SECONDS));

    assertInstanceOf(
        ServiceDiscovery.DiscoveryTimeoutException.class, lookup.value().get().failed().get());
  }

  @Test
  void lookupAnswersWithThisNodeUnderTheBootstrapServiceNameOnceConnected(TestDatabase db)
      throws Exception {
    system =
        ActorSystem.create(
            "Lone_Node", PekkoNodes.standalone(db, db.jdbcUrl(), db.newChannelName(), 7626));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    ServiceDiscovery.Resolved resolved =
        discovery
            .lookup("lone-node", Duration.ofSeconds(5))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);

    List<ServiceDiscovery.ResolvedTarget> targets = resolved.getAddresses();
    assertEquals(1, targets.size());
    assertEquals("127.0.0.1", targets.get(0).host());
    assertEquals(7626, targets.get(0).getPort().orElseThrow());
    assertEquals("127.0.0.1", targets.get(0).getAddress().orElseThrow().getHostAddress());
  }
}
