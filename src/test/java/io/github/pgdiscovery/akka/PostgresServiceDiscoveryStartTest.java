package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.discovery.Discovery;
import akka.discovery.ServiceDiscovery;
import akka.testkit.javadsl.TestKit;
import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.testing.NodeConfig;
import io.github.pgdiscovery.testing.PostgresExtension;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The discovery method as Akka loads it: start-up checks and lookups that must fail rather than mislead. */
@ExtendWith(PostgresExtension.class)
final class PostgresServiceDiscoveryStartTest {

  private ActorSystem system;

  @AfterEach
  void terminate() {
    if (system != null) {
      TestKit.shutdownActorSystem(system);
    }
  }

  @Test
  void badChannelFailsWhenDiscoveryLoadsNamingTheKeyAndValue() {
    system = ActorSystem.create("BadChannel", NodeConfig.standalone(null, "jdbc:postgresql://127.0.0.1:1/db", "my-channel;drop", 8558));

    ConfigException error =
        assertThrows(ConfigException.class, () -> Discovery.get(system).loadServiceDiscovery("postgres"));

    assertTrue(error.getMessage().contains("akka.discovery.postgres.channel"), error.getMessage());
    assertTrue(error.getMessage().contains("my-channel;drop"), error.getMessage());
  }

  @Test
  void lookupFailsWithDiscoveryTimeoutWhileDatabaseIsUnreachable() {
    system = ActorSystem.create("NoDatabase", NodeConfig.standalone(null, "jdbc:postgresql://127.0.0.1:1/db", "akka_discovery", 8558));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    CompletableFuture<ServiceDiscovery.Resolved> lookup =
        discovery.lookup("nodatabase", Duration.ofMillis(300)).toCompletableFuture();

    ExecutionException failure = assertThrows(ExecutionException.class, () -> lookup.get(10, TimeUnit.SECONDS));
    assertInstanceOf(ServiceDiscovery.DiscoveryTimeoutException.class, failure.getCause());
  }

  @Test
  void lookupAnswersWithThisNodeUnderTheBootstrapServiceNameOnceConnected(TestDatabase db) throws Exception {
    system = ActorSystem.create("Lone_Node", NodeConfig.standalone(db, db.jdbcUrl(), db.newChannelName(), 8558));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    ServiceDiscovery.Resolved resolved =
        discovery.lookup("lone-node", Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);

    List<ServiceDiscovery.ResolvedTarget> targets = resolved.getAddresses();
    assertEquals(1, targets.size());
    assertEquals("127.0.0.1", targets.get(0).host());
    assertEquals(8558, targets.get(0).getPort().orElseThrow());
    assertEquals("127.0.0.1", targets.get(0).getAddress().orElseThrow().getHostAddress());
  }
}
