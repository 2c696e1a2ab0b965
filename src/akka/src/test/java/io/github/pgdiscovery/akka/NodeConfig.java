package io.github.pgdiscovery.akka;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.github.pgdiscovery.testing.TestDatabase;

/**
 * Configuration of a single, non-clustered actor system that uses the postgres discovery method.
 */
public final class NodeConfig {

  private NodeConfig() {}

  /**
   * Discovery on {@code url} and {@code channel}, Akka Management on 127.0.0.1:{@code
   * managementPort}, reconnects at most 500 ms apart; the user and password of {@code db} when it
   * has them separately (null: none).
   */
  public static Config standalone(TestDatabase db, String url, String channel, int managementPort) {
    Config config =
        ConfigFactory.parseString(
                String.join(
                    "\n",
                    "akka.discovery.postgres.reconnect-max-backoff = 500ms",
                    "akka.management.http.hostname = 127.0.0.1",
                    "akka.loggers = [\"akka.event.slf4j.Slf4jLogger\"]",
                    "akka.logging-filter = \"akka.event.slf4j.Slf4jLoggingFilter\""))
            .withValue("akka.discovery.postgres.url", ConfigValueFactory.fromAnyRef(url))
            .withValue("akka.discovery.postgres.channel", ConfigValueFactory.fromAnyRef(channel))
            .withValue("akka.management.http.port", ConfigValueFactory.fromAnyRef(managementPort));
    if (db != null && db.user() != null) {
      config =
          config.withValue(
              "akka.discovery.postgres.user", ConfigValueFactory.fromAnyRef(db.user()));
    }
    if (db != null && db.password() != null) {
      config =
          config.withValue(
              "akka.discovery.postgres.password", ConfigValueFactory.fromAnyRef(db.password()));
    }
    return config.withFallback(ConfigFactory.load());
  }
}
