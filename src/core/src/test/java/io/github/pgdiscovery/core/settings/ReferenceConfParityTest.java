package io.github.pgdiscovery.core.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import io.github.pgdiscovery.core.settings.DiscoverySettings.Naming;
import io.github.pgdiscovery.testing.RepositoryFiles;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The two adapters' reference.conf files document one set of settings: the same keys with the same
 * defaults, which are the core's own. Read from the repository, since on one class path both would
 * be named reference.conf.
 */
final class ReferenceConfParityTest {

  private static final String URL = "jdbc:postgresql://db.internal:5432/app";
  private static final Naming AKKA =
      new Naming(
          "akka.discovery.postgres",
          "AKKA_DISCOVERY_POSTGRES",
          "akka-discovery-postgres",
          "akka_discovery");
  private static final Naming PEKKO =
      new Naming(
          "pekko.discovery.postgres",
          "PEKKO_DISCOVERY_POSTGRES",
          "pekko-discovery-postgres",
          "pekko_discovery");

  @Test
  void bothAdaptersHaveTheSameKeysWithTheSameDefaultsButForTheToolkitsOwnNames() {
    Map<String, String> akka =
        settingsWithToolkitNamesReplaced(reference("src/akka"), AKKA, "akka");
    Map<String, String> pekko =
        settingsWithToolkitNamesReplaced(reference("src/pekko"), PEKKO, "pekko");

    assertTrue(
        akka.size() > 10, "reference.conf of the Akka adapter has " + akka.size() + " settings");
    assertEquals(akka, pekko);
  }

  @Test
  void eachAdaptersDefaultsAreTheCoresDefaults() {
    for (Map.Entry<Naming, String> adapter :
        Map.of(AKKA, "src/akka", PEKKO, "src/pekko").entrySet()) {
      Naming naming = adapter.getKey();
      Config config =
          ConfigFactory.parseString(naming.key("url") + " = \"" + URL + "\"")
              .withFallback(reference(adapter.getValue()))
              .resolve(ConfigResolveOptions.noSystem());

      assertEquals(
          DiscoverySettings.builder(URL).naming(naming).build(),
          ConfigSettingsReader.read(config, naming),
          naming.configPath());
    }
  }

  private static Config reference(String module) {
    return ConfigFactory.parseFile(
        RepositoryFiles.path(module + "/src/main/resources/reference.conf").toFile());
  }

  /**
   * Every setting under the adapter's path, the toolkit's name in keys and values replaced by
   * "TOOLKIT".
   */
  private static Map<String, String> settingsWithToolkitNamesReplaced(
      Config reference, Naming naming, String toolkit) {
    Config settings =
        reference.resolve(ConfigResolveOptions.noSystem()).getConfig(naming.configPath());
    Map<String, String> found = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> entry : settings.entrySet()) {
      String value =
          entry
              .getValue()
              .render()
              .replace(toolkit, "TOOLKIT")
              .replace(capitalized(toolkit), "TOOLKIT");
      found.put(entry.getKey(), value);
    }
    return found;
  }

  private static String capitalized(String name) {
    return Character.toUpperCase(name.charAt(0)) + name.substring(1);
  }
}
