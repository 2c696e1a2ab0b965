package io.github.pgdiscovery.sample.pekko;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a Pekko node resolves from pekko-node.conf for a given environment, without starting it. */
final class PekkoSampleNodeConfigTest {

  private static final String BOOTSTRAP = "pekko.management.cluster.bootstrap.";

  /** What LocalCluster --pekko gives its second node, against an external database. */
  private static final Map<String, String> LOCAL_NODE2 =
      Map.of(
          "NODE_HOSTNAME", "127.0.0.1",
          "NODE_REMOTING_PORT", "17356",
          "NODE_MANAGEMENT_PORT", "7627",
          "REQUIRED_CONTACT_POINT_NR", "5",
          "PEKKO_DISCOVERY_POSTGRES_URL", "jdbc:postgresql://db.internal:5432/pekko",
          "PEKKO_DISCOVERY_POSTGRES_USER", "pekko",
          "PEKKO_DISCOVERY_POSTGRES_PASSWORD", "secret");

  @Test
  void localNodeEnvironmentSetsPortsAndDatabase() {
    Config config = PekkoSampleNode.config(LOCAL_NODE2);

    assertEquals("127.0.0.1", config.getString("pekko.remote.artery.canonical.hostname"));
    assertEquals(17356, config.getInt("pekko.remote.artery.canonical.port"));
    assertEquals("127.0.0.1", config.getString("pekko.management.http.hostname"));
    assertEquals(7627, config.getInt("pekko.management.http.port"));
    assertEquals(
        "postgres", config.getString(BOOTSTRAP + "contact-point-discovery.discovery-method"));
    assertEquals(5, config.getInt(BOOTSTRAP + "contact-point-discovery.required-contact-point-nr"));
    assertFalse(config.getBoolean(BOOTSTRAP + "contact-point.filter-on-fallback-port"));
    assertEquals(
        "jdbc:postgresql://db.internal:5432/pekko",
        config.getString("pekko.discovery.postgres.url"));
    assertEquals("pekko", config.getString("pekko.discovery.postgres.user"));
    assertEquals("secret", config.getString("pekko.discovery.postgres.password"));
  }

  @Test
  void withoutEnvironmentPekkosDefaultsApply() {
    Config config = PekkoSampleNode.config(Map.of());

    assertEquals("127.0.0.1", config.getString("pekko.remote.artery.canonical.hostname"));
    assertEquals(17355, config.getInt("pekko.remote.artery.canonical.port"));
    assertEquals("127.0.0.1", config.getString("pekko.management.http.hostname"));
    assertEquals(7626, config.getInt("pekko.management.http.port"));
    assertEquals(3, config.getInt(BOOTSTRAP + "contact-point-discovery.required-contact-point-nr"));
    assertEquals("", config.getString("pekko.discovery.postgres.url"));
    assertEquals("pekko_discovery", config.getString("pekko.discovery.postgres.channel"));
    assertEquals(
        "io.github.pgdiscovery.pekko.PostgresServiceDiscovery",
        config.getString("pekko.discovery.postgres.class"));
    assertEquals("cluster", config.getString("pekko.actor.provider"));
    assertEquals("on", config.getString("pekko.coordinated-shutdown.exit-jvm"));
    assertEquals(
        List.of("org.apache.pekko.event.slf4j.Slf4jLogger"), config.getStringList("pekko.loggers"));
  }

  /**
   * The reason a node that did not start shuts down with is the one pekko-node.conf maps to exit
   * code 1.
   */
  @Test
  void aFailedStartExitsWithOne() {
    Config overrides =
        PekkoSampleNode.config(Map.of()).getConfig("pekko.coordinated-shutdown.reason-overrides");

    String reason = PekkoSampleNode.StartFailed.INSTANCE.getClass().getName();
    assertEquals(1, overrides.getConfig("\"" + reason + "\"").getInt("exit-code"));
  }

  /**
   * The Akka node's variables, application.conf and Akka itself are on another class path: none
   * reach this node.
   */
  @Test
  void akkaSettingsDoNotReachThePekkoNode() {
    Config config =
        PekkoSampleNode.config(
            Map.of(
                "AKKA_DISCOVERY_POSTGRES_URL", "jdbc:postgresql://akka-db:5432/akka",
                "AKKA_LICENSE_KEY", "a-key"));

    assertEquals("", config.getString("pekko.discovery.postgres.url"));
    // Akka's own reference.conf (akka.actor.*) is not there; only the build's akka.stdout-loglevel
    // property is.
    assertFalse(
        config.hasPath("akka.actor"), "Akka's reference.conf on the Pekko node's class path");
    assertFalse(
        config.hasPath("akka.discovery"), "akka.discovery settings on the Pekko node's class path");
  }

  /**
   * Resolving against a map must give what ConfigFactory.load("pekko-node") gives for the same
   * environment.
   */
  @Test
  void withTheProcessEnvironmentItMatchesConfigFactoryLoad() {
    ConfigFactory.invalidateCaches();
    assertEquals(
        ConfigFactory.load("pekko-node").root(), PekkoSampleNode.config(System.getenv()).root());
  }
}
