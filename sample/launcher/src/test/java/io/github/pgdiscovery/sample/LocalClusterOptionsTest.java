package io.github.pgdiscovery.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The launcher's command line: which nodes it starts, and with what. */
final class LocalClusterOptionsTest {

  @Test
  void withoutPekkoItLaunchesAkkaNodes() {
    LocalCluster.Options options =
        LocalCluster.Options.parse(new String[] {"--nodes", "3", "--exit-when-formed"});

    assertEquals(Toolkit.AKKA, options.toolkit());
    assertEquals(3, options.nodes());
    assertTrue(options.exitWhenFormed());
    assertEquals(
        Duration.ofSeconds(LocalCluster.Options.DEFAULT_TIMEOUT_SECONDS), options.timeout());
  }

  @Test
  void pekkoTakesTheSameOptionsInAnyOrder() {
    LocalCluster.Options options =
        LocalCluster.Options.parse(new String[] {"--nodes=5", "--pekko", "--timeout", "90s"});

    assertEquals(Toolkit.PEKKO, options.toolkit());
    assertEquals(5, options.nodes());
    assertFalse(options.exitWhenFormed());
    assertEquals(Duration.ofSeconds(90), options.timeout());
  }

  @Test
  void pekkoTakesNoValue() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> LocalCluster.Options.parse(new String[] {"--pekko=yes"}));
    assertEquals("--pekko takes no value", error.getMessage());
  }

  /** Each toolkit's nodes start at its own default ports and read its own library's variables. */
  @Test
  void toolkitsDifferInPortsVariablesAndMainClass() {
    assertEquals(25520, Toolkit.AKKA.firstRemotingPort());
    assertEquals(8558, Toolkit.AKKA.firstManagementPort());
    assertEquals("AKKA_DISCOVERY_POSTGRES_URL", Toolkit.AKKA.urlEnv());
    assertEquals("io.github.pgdiscovery.sample.SampleNode", Toolkit.AKKA.mainClass());

    assertEquals(17355, Toolkit.PEKKO.firstRemotingPort());
    assertEquals(7626, Toolkit.PEKKO.firstManagementPort());
    assertEquals("PEKKO_DISCOVERY_POSTGRES_URL", Toolkit.PEKKO.urlEnv());
    assertEquals("PEKKO_DISCOVERY_POSTGRES_PASSWORD", Toolkit.PEKKO.passwordEnv());
    assertEquals("io.github.pgdiscovery.sample.pekko.PekkoSampleNode", Toolkit.PEKKO.mainClass());
  }

  @Test
  void aPekkoNodesAddressHasPekkosScheme() {
    LocalNode node =
        new LocalNode(Toolkit.PEKKO, 2, 17356, 7627, java.nio.file.Path.of("node-2.log"));

    assertEquals("pekko://sample@127.0.0.1:17356", node.address());
    assertEquals("http://127.0.0.1:7627/cluster/members", node.membersUri().toString());
  }
}
