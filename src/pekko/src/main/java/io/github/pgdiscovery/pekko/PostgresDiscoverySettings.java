package io.github.pgdiscovery.pekko;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.core.settings.ConfigSettingsReader;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import org.apache.pekko.annotation.InternalApi;

/**
 * Reads and checks the {@code pekko.discovery.postgres} section once; the rest of the library never
 * touches {@link Config}. The rules are the core's ({@link DiscoverySettings.Builder#build()});
 * every failure names the full key and the bad value as written (a password never appears).
 */
@InternalApi
public final class PostgresDiscoverySettings {

  public static final String PREFIX = "pekko.discovery.postgres";

  /**
   * What the core needs to name for Pekko users: keys, environment variables, the session and
   * thread names.
   */
  public static final DiscoverySettings.Naming NAMING =
      new DiscoverySettings.Naming(
          PREFIX, "PEKKO_DISCOVERY_POSTGRES", "pekko-discovery-postgres", "pekko_discovery");

  private final DiscoverySettings discovery;

  private PostgresDiscoverySettings(DiscoverySettings discovery) {
    this.discovery = discovery;
  }

  /**
   * Reads the settings from the actor system's whole configuration.
   *
   * @throws ConfigException naming the key, for a missing or bad value
   */
  public static PostgresDiscoverySettings fromConfig(Config root) {
    return new PostgresDiscoverySettings(ConfigSettingsReader.read(root, NAMING));
  }

  /**
   * Whether discovery starts with the actor system: {@code start-with-actor-system} is on and
   * Cluster Bootstrap uses the {@code postgres} method, named directly or through {@code
   * pekko.discovery.method}.
   */
  public static boolean startsWithActorSystem(Config root) {
    String bootstrapMethod =
        root.getString(
            "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method");
    String method =
        "pekko.discovery".equals(bootstrapMethod)
            ? root.getString("pekko.discovery.method")
            : bootstrapMethod;
    return "postgres".equals(method) && root.getBoolean(PREFIX + ".start-with-actor-system");
  }

  public DiscoverySettings discovery() {
    return discovery;
  }

  @Override
  public String toString() {
    return discovery.toString();
  }
}
