package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.management.AkkaManagementSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.RepositoryFiles;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The configuration users copy must load and pass the library's own checks as it stands. */
final class ApplicationConfExampleTest {

  @Test
  void exampleConfigurationResolvesAndPassesTheSettingsChecks() {
    // Resolved without the environment, so a developer's own AKKA_DISCOVERY_POSTGRES_* cannot
    // change the outcome.
    Config config =
        ConfigFactory.parseFile(RepositoryFiles.path("application.conf.example").toFile())
            .withFallback(ConfigFactory.parseResources("reference.conf"))
            .resolve(ConfigResolveOptions.noSystem());

    DiscoverySettings settings = PostgresDiscoverySettings.fromConfig(config).discovery();

    assertEquals("jdbc:postgresql://db.internal:5432/app", settings.database().url());
    assertEquals("akka_discovery", settings.channel());
    assertEquals(Duration.ofSeconds(5), settings.timing().heartbeatInterval());
    assertEquals(Duration.ofSeconds(15), settings.timing().expireAfter());
    assertEquals(
        "postgres",
        config.getString(
            "akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
    assertEquals(8558, new AkkaManagementSettings(config).getHttpPort());
  }
}
