package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.discovery.Discovery;
import akka.discovery.ServiceDiscovery;
import akka.testkit.javadsl.TestKit;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.github.pgdiscovery.testing.PostgresExtension;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
    system = ActorSystem.create("BadChannel", config("jdbc:postgresql://127.0.0.1:1/db", "my-channel;drop"));

    ConfigException error =
        assertThrows(ConfigException.class, () -> Discovery.get(system).loadServiceDiscovery("postgres"));

    assertTrue(error.getMessage().contains("akka.discovery.postgres.channel"), error.getMessage());
    assertTrue(error.getMessage().contains("my-channel;drop"), error.getMessage());
  }

  @Test
  void lookupFailsWithDiscoveryTimeoutWhileDatabaseIsUnreachable() {
    system = ActorSystem.create("NoDatabase", config("jdbc:postgresql://127.0.0.1:1/db", "akka_discovery"));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    CompletableFuture<ServiceDiscovery.Resolved> lookup =
        discovery.lookup("nodatabase", Duration.ofMillis(300)).toCompletableFuture();

    ExecutionException failure = assertThrows(ExecutionException.class, lookup::get);
    assertInstanceOf(ServiceDiscovery.DiscoveryTimeoutException.class, failure.getCause());
  }

  @Test
  void lookupAnswersWithThisNodeUnderTheBootstrapServiceNameOnceConnected(TestDatabase db) throws Exception {
    system = ActorSystem.create("Lone_Node", databaseConfig(db));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    ServiceDiscovery.Resolved resolved =
        discovery.lookup("lone-node", Duration.ofSeconds(5)).toCompletableFuture().get();

    List<ServiceDiscovery.ResolvedTarget> targets = resolved.getAddresses();
    assertEquals(1, targets.size());
    assertEquals("127.0.0.1", targets.get(0).host());
    assertEquals(8558, targets.get(0).getPort().orElseThrow());
    assertEquals("127.0.0.1", targets.get(0).getAddress().orElseThrow().getHostAddress());
  }

  private static Config config(String url, String channel) {
    return ConfigFactory.parseString(
            "akka.discovery.postgres.url = \"" + url + "\"\n"
                + "akka.discovery.postgres.channel = \"" + channel + "\"\n"
                + "akka.discovery.postgres.reconnect-max-backoff = 1s\n"
                + "akka.management.http.hostname = 127.0.0.1\n"
                + "akka.loggers = [\"akka.event.slf4j.Slf4jLogger\"]\n"
                + "akka.logging-filter = \"akka.event.slf4j.Slf4jLoggingFilter\"\n")
        .withFallback(ConfigFactory.load());
  }

  private static Config databaseConfig(TestDatabase db) {
    Config config = config(db.jdbcUrl(), db.newChannelName());
    if (db.user() != null) {
      config = ConfigFactory.parseString("akka.discovery.postgres.user = \"" + db.user() + "\"").withFallback(config);
    }
    if (db.password() != null) {
      config = ConfigFactory.parseString("akka.discovery.postgres.password = \"" + db.password() + "\"")
          .withFallback(config);
    }
    return config;
  }
}
