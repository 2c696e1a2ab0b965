package io.github.pgdiscovery.core.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.core.settings.DiscoverySettings.InvalidSetting;
import io.github.pgdiscovery.core.settings.DiscoverySettings.Naming;

/**
 * Reads the discovery section of an actor system's configuration, for either adapter: the keys are
 * the same and live under {@link Naming#configPath()}. Every failure is a {@link ConfigException}
 * that names the full key and the value as written (never the password or the secret), so a user
 * sees at start which line to fix.
 */
public final class ConfigSettingsReader {

  private ConfigSettingsReader() {}

  /** Reads and validates the settings from the actor system's whole configuration. */
  public static DiscoverySettings read(Config root, Naming naming) {
    String prefix = naming.configPath() + ".";
    try {
      return DiscoverySettings.builder(root.getString(prefix + "url"))
          .user(root.getString(prefix + "user"))
          .password(root.getString(prefix + "password"))
          .passwordFile(root.getString(prefix + "password-file"))
          .channel(root.getString(prefix + "channel"))
          .heartbeatInterval(root.getDuration(prefix + "heartbeat-interval"))
          .joinedHeartbeatInterval(offOrDuration(root, prefix + "joined-heartbeat-interval"))
          .expireAfter(root.getDuration(prefix + "expire-after"))
          .connectTimeout(root.getDuration(prefix + "connect-timeout"))
          .connectionCheckInterval(root.getDuration(prefix + "connection-check-interval"))
          .reconnectBackoff(
              root.getDuration(prefix + "reconnect-min-backoff"),
              root.getDuration(prefix + "reconnect-max-backoff"))
          .probeReplyWindow(root.getDuration(prefix + "probe-reply-window"))
          .sharedSecret(root.getString(prefix + "shared-secret"))
          .replayWindow(root.getDuration(prefix + "replay-window"))
          .maxPeersPerService(root.getInt(prefix + "max-peers-per-service"))
          .naming(naming)
          .describeValuesWith(key -> String.valueOf(root.getValue(prefix + key).unwrapped()))
          .build();
    } catch (InvalidSetting e) {
      throw new ConfigException.BadValue(naming.key(e.key()), e.problem());
    }
  }

  /**
   * {@code off} (or {@code false}, {@code no}: HOCON's other words for it) as zero, else a
   * duration.
   */
  private static java.time.Duration offOrDuration(Config root, String key) {
    if (root.getValue(key).valueType() == com.typesafe.config.ConfigValueType.BOOLEAN) {
      if (!root.getBoolean(key)) {
        return java.time.Duration.ZERO;
      }
      throw new ConfigException.BadValue(key, "must be off or a duration such as 30s (was on)");
    }
    String written = root.getString(key).trim().toLowerCase(java.util.Locale.ROOT);
    if (written.equals("off") || written.equals("false") || written.equals("no")) {
      return java.time.Duration.ZERO;
    }
    return root.getDuration(key);
  }
}
