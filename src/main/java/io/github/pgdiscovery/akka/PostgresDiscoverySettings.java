package io.github.pgdiscovery.akka;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.core.EngineSettings;
import java.time.Duration;
import java.util.Properties;

/**
 * Reads and checks the {@code akka.discovery.postgres} section once; the rest of the library never touches
 * {@link Config}. Every failure names the full key and the bad value as written (a password never appears).
 */
public final class PostgresDiscoverySettings {

  public static final String PREFIX = "akka.discovery.postgres";

  /** HMAC keys shorter than this are too easy to guess offline from one recorded message. */
  static final int MIN_SECRET_LENGTH = 16;

  private final EngineSettings engine;

  private PostgresDiscoverySettings(EngineSettings engine) {
    this.engine = engine;
  }

  /** Reads the settings from the actor system's whole configuration. */
  public static PostgresDiscoverySettings fromConfig(Config root) {
    Reader c = new Reader(root);
    String url = c.string("url").trim();
    if (url.isEmpty()) {
      throw bad("url", "is not set: give the JDBC URL of a PostgreSQL database every node can reach, e.g."
          + " jdbc:postgresql://db:5432/app, or set the environment variable AKKA_DISCOVERY_POSTGRES_URL");
    }
    if (!url.startsWith("jdbc:postgresql:") || org.postgresql.Driver.parseURL(url, new Properties()) == null) {
      throw bad("url", "\"" + EngineSettings.redactUrl(url)
          + "\" is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database)");
    }
    String channel = c.string("channel");
    if (!EngineSettings.isValidChannel(channel)) {
      throw bad("channel", "\"" + channel + "\" is not a valid Postgres identifier (letters, digits, underscore,"
          + " not starting with a digit; at most 63 bytes)");
    }
    Duration heartbeat = c.positive("heartbeat-interval");
    Duration expireAfter = c.positive("expire-after");
    // Heartbeats come up to 10% late by design (jitter); an expiry inside that window would drop live peers.
    if (expireAfter.compareTo(heartbeat.plus(heartbeat.dividedBy(10))) <= 0) {
      throw bad("expire-after", c.written("expire-after") + " must be longer than heartbeat-interval ("
          + c.written("heartbeat-interval") + ") plus its 10% jitter, or peers expire between two heartbeats;"
          + " three heartbeats is a good value");
    }
    if (heartbeat.compareTo(EngineSettings.MAX_HEARTBEAT_INTERVAL) > 0) {
      throw bad("heartbeat-interval", c.written("heartbeat-interval") + " is longer than the maximum of 1 hour");
    }
    Duration joinedHeartbeat = c.positive("joined-heartbeat-interval");
    if (joinedHeartbeat.compareTo(EngineSettings.MAX_HEARTBEAT_INTERVAL) > 0) {
      throw bad("joined-heartbeat-interval", c.written("joined-heartbeat-interval") + " is longer than the"
          + " maximum of 1 hour, which receivers accept in an announcement");
    }
    Duration minBackoff = c.positive("reconnect-min-backoff");
    Duration maxBackoff = c.positive("reconnect-max-backoff");
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw bad("reconnect-max-backoff", c.written("reconnect-max-backoff") + " is shorter than"
          + " reconnect-min-backoff (" + c.written("reconnect-min-backoff") + ")");
    }
    String sharedSecret = emptyToNull(c.string("shared-secret"));
    if (sharedSecret != null && sharedSecret.length() < MIN_SECRET_LENGTH) {
      // The length only: the value itself never goes into a message.
      throw bad("shared-secret", "is " + sharedSecret.length() + " characters long; use at least "
          + MIN_SECRET_LENGTH + ", e.g. the output of `openssl rand -base64 32`");
    }
    int maxPeers = c.root().getInt(PREFIX + ".max-peers-per-service");
    if (maxPeers < 1) {
      throw bad("max-peers-per-service", "must be at least 1 (was " + c.written("max-peers-per-service") + ")");
    }
    return new PostgresDiscoverySettings(
        new EngineSettings(
            url,
            emptyToNull(c.string("user")),
            emptyToNull(c.string("password")),
            channel,
            heartbeat,
            // Never more often once joined: a heartbeat-interval raised above the default applies throughout.
            joinedHeartbeat.compareTo(heartbeat) < 0 ? heartbeat : joinedHeartbeat,
            expireAfter,
            c.positive("connect-timeout"),
            c.positive("connection-check-interval"),
            minBackoff,
            maxBackoff,
            c.nonNegative("probe-reply-window"),
            sharedSecret,
            c.positive("replay-window"),
            maxPeers,
            true));
  }

  public EngineSettings engine() {
    return engine;
  }

  static ConfigException bad(String key, String problem) {
    return new ConfigException.BadValue(PREFIX + "." + key, problem);
  }

  private static String emptyToNull(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  /** Reads keys by their full path, so that the config library's own errors name the full key too. */
  private record Reader(Config root) {

    String string(String key) {
      return root.getString(PREFIX + "." + key);
    }

    /** The value as the user wrote it, e.g. "3s" rather than "PT3S". */
    String written(String key) {
      return String.valueOf(root.getValue(PREFIX + "." + key).unwrapped());
    }

    Duration positive(String key) {
      Duration value = root.getDuration(PREFIX + "." + key);
      if (value.isNegative() || value.isZero()) {
        throw bad(key, "must be positive (was " + written(key) + ")");
      }
      return value;
    }

    Duration nonNegative(String key) {
      Duration value = root.getDuration(PREFIX + "." + key);
      if (value.isNegative()) {
        throw bad(key, "must not be negative (was " + written(key) + ")");
      }
      return value;
    }
  }

  @Override
  public String toString() {
    return engine.toString();
  }
}
