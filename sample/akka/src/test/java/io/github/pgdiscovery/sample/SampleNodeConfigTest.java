package io.github.pgdiscovery.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a node resolves from application.conf for a given environment, without starting it. */
final class SampleNodeConfigTest {

  private static final String BOOTSTRAP = "akka.management.cluster.bootstrap.";

  /**
   * node2's environment in docker-compose.yml, with AKKA_LICENSE_KEY unset on the host (compose
   * passes "").
   */
  private static final Map<String, String> COMPOSE_NODE2 =
      Map.of(
          "NODE_HOSTNAME", "node2",
          "AKKA_DISCOVERY_POSTGRES_URL", "jdbc:postgresql://postgres:5432/akka",
          "AKKA_DISCOVERY_POSTGRES_USER", "akka",
          "AKKA_DISCOVERY_POSTGRES_PASSWORD", "akka",
          "REQUIRED_CONTACT_POINT_NR", "3",
          "AKKA_LICENSE_KEY", "");

  @Test
  void composeNodeResolvesItsHostnamePortsAndDatabase() {
    Config config = SampleNode.config(COMPOSE_NODE2);

    assertEquals("node2", config.getString("akka.remote.artery.canonical.hostname"));
    assertEquals(25520, config.getInt("akka.remote.artery.canonical.port"));
    assertEquals("node2", config.getString("akka.management.http.hostname"));
    assertEquals(8558, config.getInt("akka.management.http.port"));
    assertEquals(
        "postgres", config.getString(BOOTSTRAP + "contact-point-discovery.discovery-method"));
    assertEquals(3, config.getInt(BOOTSTRAP + "contact-point-discovery.required-contact-point-nr"));
    assertFalse(config.getBoolean(BOOTSTRAP + "contact-point.filter-on-fallback-port"));
    assertEquals(
        "jdbc:postgresql://postgres:5432/akka", config.getString("akka.discovery.postgres.url"));
    assertEquals("akka", config.getString("akka.discovery.postgres.user"));
    assertEquals("akka", config.getString("akka.discovery.postgres.password"));
    assertEquals("", config.getString("akka.license-key"));
  }

  @Test
  void withoutEnvironmentTheDefaultsApply() {
    Config config = SampleNode.config(Map.of());

    assertEquals("127.0.0.1", config.getString("akka.remote.artery.canonical.hostname"));
    assertEquals(25520, config.getInt("akka.remote.artery.canonical.port"));
    assertEquals("127.0.0.1", config.getString("akka.management.http.hostname"));
    assertEquals(8558, config.getInt("akka.management.http.port"));
    assertEquals(3, config.getInt(BOOTSTRAP + "contact-point-discovery.required-contact-point-nr"));
    assertEquals("", config.getString("akka.discovery.postgres.url"));
    assertEquals("cluster", config.getString("akka.actor.provider"));
    assertEquals("on", config.getString("akka.coordinated-shutdown.exit-jvm"));
  }

  @Test
  void localNodeEnvironmentSetsPortsAndLicenseKey() {
    Config config =
        SampleNode.config(
            Map.of(
                "NODE_REMOTING_PORT", "25522",
                "NODE_MANAGEMENT_PORT", "8560",
                "REQUIRED_CONTACT_POINT_NR", "5",
                "AKKA_LICENSE_KEY", "a-key"));

    assertEquals(25522, config.getInt("akka.remote.artery.canonical.port"));
    assertEquals(8560, config.getInt("akka.management.http.port"));
    assertEquals(5, config.getInt(BOOTSTRAP + "contact-point-discovery.required-contact-point-nr"));
    assertEquals("a-key", config.getString("akka.license-key"));
  }

  /**
   * Resolving against a map must give what Akka's usual ConfigFactory.load() gives for the same
   * environment.
   */
  @Test
  void withTheProcessEnvironmentItMatchesConfigFactoryLoad() {
    ConfigFactory.invalidateCaches();
    assertEquals(ConfigFactory.load().root(), SampleNode.config(System.getenv()).root());
  }
}
