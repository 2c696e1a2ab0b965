package io.github.pgdiscovery.akka;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.core.EngineSettings;
import java.time.Duration;
import java.util.Properties;

/**
 * Reads and checks the {@code akka.discovery.postgres} section once; the rest of the library never touches
 * {@link Config}. Every failure names the key and the bad value (a password never appears).
 */
public final class PostgresDiscoverySettings {

  public static final String PREFIX = "akka.discovery.postgres";

  private final EngineSettings engine;

  private PostgresDiscoverySettings(EngineSettings engine) {
    this.engine = engine;
  }

  /** Reads the settings from the actor system's whole configuration. */
  public static PostgresDiscoverySettings fromConfig(Config root) {
    Config c = root.getConfig(PREFIX);
    String url = c.getString("url").trim();
    if (url.isEmpty()) {
      throw bad("url", "is not set: give the JDBC URL of a PostgreSQL database every node can reach, e.g."
          + " jdbc:postgresql://db:5432/app, or set the environment variable AKKA_DISCOVERY_POSTGRES_URL");
    }
    if (!url.startsWith("jdbc:postgresql:") || org.postgresql.Driver.parseURL(url, new Properties()) == null) {
      throw bad("url", "\"" + EngineSettings.redactUrl(url) + "\" is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database)");
    }
    String channel = c.getString("channel");
    if (!EngineSettings.isValidChannel(channel)) {
      throw bad("channel", "\"" + channel + "\" is not a valid Postgres identifier (letters, digits, underscore,"
          + " not starting with a digit; at most 63 bytes)");
    }
    Duration heartbeat = positive(c, "heartbeat-interval");
    Duration expireAfter = positive(c, "expire-after");
    if (expireAfter.compareTo(heartbeat) <= 0) {
      throw bad("expire-after", expireAfter + " must be longer than heartbeat-interval (" + heartbeat
          + "), or peers expire between two heartbeats; three heartbeats is a good value");
    }
    Duration minBackoff = positive(c, "reconnect-min-backoff");
    Duration maxBackoff = positive(c, "reconnect-max-backoff");
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw bad("reconnect-max-backoff", maxBackoff + " is shorter than reconnect-min-backoff (" + minBackoff + ")");
    }
    return new PostgresDiscoverySettings(
        new EngineSettings(
            url,
            emptyToNull(c.getString("user")),
            emptyToNull(c.getString("password")),
            channel,
            heartbeat,
            expireAfter,
            positive(c, "connect-timeout"),
            positive(c, "connection-check-interval"),
            minBackoff,
            maxBackoff,
            nonNegative(c, "probe-reply-window")));
  }

  public EngineSettings engine() {
    return engine;
  }

  static ConfigException bad(String key, String problem) {
    return new ConfigException.BadValue(PREFIX + "." + key, problem);
  }

  private static Duration positive(Config c, String key) {
    Duration value = c.getDuration(key);
    if (value.isNegative() || value.isZero()) {
      throw bad(key, "must be positive (was " + c.getValue(key).unwrapped() + ")");
    }
    return value;
  }

  private static Duration nonNegative(Config c, String key) {
    Duration value = c.getDuration(key);
    if (value.isNegative()) {
      throw bad(key, "must not be negative (was " + c.getValue(key).unwrapped() + ")");
    }
    return value;
  }

  private static String emptyToNull(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  @Override
  public String toString() {
    return engine.toString();
  }
}
