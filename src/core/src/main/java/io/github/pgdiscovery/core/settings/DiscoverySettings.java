package io.github.pgdiscovery.core.settings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Everything discovery needs to know, validated once, in one place ({@link Builder#build()}),
 * whoever read it: the adapters read it from configuration with {@link ConfigSettingsReader}, tests
 * and benchmarks build it directly. The values are grouped so that no two of the same type sit side
 * by side in one constructor call.
 *
 * <p>The defaults are the constants in {@link Defaults}; a test ties them to each adapter's
 * reference.conf.
 *
 * @param database where to connect and how to keep the connection
 * @param channel the LISTEN/NOTIFY channel, a valid identifier ({@link #isValidChannel})
 * @param timing heartbeats, expiry and the probe reply window
 * @param security message signing and the bounds on what a node keeps
 * @param naming names that differ between the Akka and the Pekko adapter
 */
public record DiscoverySettings(
    Database database, String channel, Timing timing, Security security, Naming naming) {

  /** The longest interval an announcement may state, and the longest heartbeat: one hour. */
  public static final Duration MAX_HEARTBEAT_INTERVAL = Duration.ofHours(1);

  /** HMAC keys shorter than this are too easy to guess offline from one recorded message. */
  public static final int MIN_SECRET_LENGTH = 16;

  private static final Pattern CHANNEL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final int MAX_IDENTIFIER_BYTES = 63;
  private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&]*");
  private static final Pattern URL_USERINFO = Pattern.compile("(//)[^/@]*@");

  /**
   * @param url JDBC URL; driver options such as TLS go in it
   * @param user database user, or null to take it from the URL
   * @param password database password, or null to take it from the URL; never logged
   * @param passwordFile a file holding the password, read at every connect, or null; the file's
   *     content is never logged
   * @param connectTimeout bound on connecting and on every round trip to the server
   * @param connectionCheckInterval how long the listener may send nothing before it tests the
   *     connection (what it hears does not count)
   * @param reconnectMinBackoff first delay before reconnecting after a failure
   * @param reconnectMaxBackoff the delay between reconnection attempts grows up to this
   */
  public record Database(
      String url,
      String user,
      String password,
      Path passwordFile,
      Duration connectTimeout,
      Duration connectionCheckInterval,
      Duration reconnectMinBackoff,
      Duration reconnectMaxBackoff) {

    /**
     * The password to connect with now: the file's content when {@code password-file} is set (read
     * each time, so a rotated secret is used at the next connect; one trailing line break is not
     * part of it), else {@link #password()}.
     *
     * @throws SQLException naming the key and the file, never its content, when it cannot be read
     */
    public String currentPassword(Naming naming) throws SQLException {
      if (passwordFile == null) {
        return password;
      }
      try {
        return withoutTrailingLineBreak(Files.readString(passwordFile, StandardCharsets.UTF_8));
      } catch (IOException | RuntimeException e) {
        throw new SQLException(
            naming.key("password-file")
                + ": cannot read "
                + passwordFile
                + " ("
                + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + e.getMessage())
                + ")",
            e);
      }
    }

    private static String withoutTrailingLineBreak(String content) {
      if (content.endsWith("\r\n")) {
        return content.substring(0, content.length() - 2);
      }
      if (content.endsWith("\n")) {
        return content.substring(0, content.length() - 1);
      }
      return content;
    }

    @Override
    public String toString() {
      return "url="
          + redactUrl(url)
          + ", user="
          + user
          + ", password="
          + (password == null ? "<none>" : "<redacted>")
          + (passwordFile == null ? "" : ", passwordFile=" + passwordFile)
          + ", connectTimeout="
          + readable(connectTimeout)
          + ", connectionCheckInterval="
          + readable(connectionCheckInterval)
          + ", reconnectBackoff="
          + readable(reconnectMinBackoff)
          + ".."
          + readable(reconnectMaxBackoff);
    }
  }

  /**
   * @param heartbeatInterval how often a node re-announces itself until it has joined its cluster
   * @param joinedHeartbeatInterval how often once it has joined; never shorter than {@code
   *     heartbeatInterval}; {@link Duration#ZERO} for off: a joined node announces once that its
   *     cluster watches it, then stays silent
   * @param expireAfter how long a peer announcing at {@code heartbeatInterval} stays without being
   *     heard
   * @param probeReplyWindow after hearing its own probe, how long a node waits for replies before
   *     answering
   */
  public record Timing(
      Duration heartbeatInterval,
      Duration joinedHeartbeatInterval,
      Duration expireAfter,
      Duration probeReplyWindow) {

    /**
     * How long a peer that announces every {@code senderIntervalMillis} stays without being heard:
     * expire-after, scaled by how much longer than heartbeat-interval the sender's interval is, so
     * that it may miss as many heartbeats as a peer at the normal rate; 0 (not stated) means
     * expire-after. Clamped to what this node's own joined interval would give: an announcement
     * cannot buy a longer stay than the cluster's own configuration grants, so a forged interval of
     * an hour keeps nothing for three.
     */
    public long expireAfterNanos(long senderIntervalMillis) {
      long base = expireAfter.toNanos();
      long normal = heartbeatInterval.toMillis();
      // With joined heartbeats off, nobody of this cluster states a longer interval than
      // heartbeat-interval.
      long cap = silentOnceJoined() ? normal : joinedHeartbeatInterval.toMillis();
      long stated = Math.min(senderIntervalMillis, cap);
      if (stated <= normal) {
        return base;
      }
      return (long) (base * ((double) stated / normal));
    }

    /**
     * Whether a node that has joined its cluster stops heartbeats (joined-heartbeat-interval =
     * off).
     */
    public boolean silentOnceJoined() {
      return joinedHeartbeatInterval.isZero();
    }

    /**
     * How long a node that has not joined keeps a peer that announced it is watched by its cluster,
     * unless a roster or the peer itself confirms it again: four expire-afters (one minute by
     * default). Such a node asks again (a probe) every half of that while it holds any, so a member
     * that left the cluster while its goodbye or removal went unheard leaves the waiting node's
     * view within this bound, and a live one stays.
     */
    public long watchedPeerTtlNanos() {
      return 4 * expireAfter.toNanos();
    }

    @Override
    public String toString() {
      return "heartbeatInterval="
          + readable(heartbeatInterval)
          + ", joinedHeartbeatInterval="
          + readable(joinedHeartbeatInterval)
          + ", expireAfter="
          + readable(expireAfter)
          + ", probeReplyWindow="
          + readable(probeReplyWindow);
    }
  }

  /**
   * @param sharedSecret HMAC-SHA256 key for signing and checking every message, or null; never
   *     logged
   * @param replayWindow with a secret: messages further than this from the receiver's clock are
   *     dropped
   * @param maxPeersPerService at most this many contact points are kept per service
   */
  public record Security(String sharedSecret, Duration replayWindow, int maxPeersPerService) {

    /**
     * How many services a node keeps contact points for: its own, and those it is asked to look up.
     * With {@link #maxPeersPerService} this bounds the whole table, whatever service names a
     * stranger invents.
     */
    public static final int MAX_SERVICES = 16;

    public boolean signs() {
      return sharedSecret != null;
    }

    @Override
    public String toString() {
      return "sharedSecret="
          + (sharedSecret == null ? "<none>" : "<redacted>")
          + ", replayWindow="
          + readable(replayWindow)
          + ", maxPeersPerService="
          + maxPeersPerService;
    }
  }

  /**
   * Names that differ between the adapters, so that the core names neither Akka nor Pekko.
   *
   * @param configPath where the keys live, e.g. {@code akka.discovery.postgres}; log messages name
   *     keys under it
   * @param environmentPrefix prefix of the environment variables, e.g. {@code
   *     AKKA_DISCOVERY_POSTGRES}
   * @param applicationName the database session's application_name, and the connection thread's
   *     name prefix
   * @param defaultChannel the channel when none is configured: each toolkit has its own, as their
   *     nodes cannot form one cluster
   */
  public record Naming(
      String configPath, String environmentPrefix, String applicationName, String defaultChannel) {

    public Naming {
      Objects.requireNonNull(configPath, "configPath");
      Objects.requireNonNull(environmentPrefix, "environmentPrefix");
      Objects.requireNonNull(applicationName, "applicationName");
      Objects.requireNonNull(defaultChannel, "defaultChannel");
    }

    /**
     * Names for code that is neither adapter: tests of the core, the simulator and the benchmarks.
     */
    public static final Naming NEUTRAL =
        new Naming("discovery.postgres", "DISCOVERY_POSTGRES", "pg-discovery", "pg_discovery");

    /** The full path of {@code key}, e.g. {@code akka.discovery.postgres.replay-window}. */
    public String key(String key) {
      return configPath + "." + key;
    }
  }

  /**
   * The library's defaults, the single source that each adapter's reference.conf must agree with
   * (the default channel is the adapter's, {@link Naming#defaultChannel()}).
   */
  public static final class Defaults {
    public static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(5);

    /** Off: a joined node is silent, its cluster watches it. */
    public static final Duration JOINED_HEARTBEAT_INTERVAL = Duration.ZERO;

    public static final Duration EXPIRE_AFTER = Duration.ofSeconds(15);
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration CONNECTION_CHECK_INTERVAL = Duration.ofSeconds(5);
    public static final Duration RECONNECT_MIN_BACKOFF = Duration.ofMillis(200);
    public static final Duration RECONNECT_MAX_BACKOFF = Duration.ofSeconds(10);
    public static final Duration PROBE_REPLY_WINDOW = Duration.ofMillis(300);
    public static final Duration REPLAY_WINDOW = Duration.ofSeconds(30);
    public static final int MAX_PEERS_PER_SERVICE = 1024;

    private Defaults() {}
  }

  public DiscoverySettings {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(timing, "timing");
    Objects.requireNonNull(security, "security");
    Objects.requireNonNull(naming, "naming");
  }

  /**
   * Settings with the defaults for everything but the database; {@link Builder#build()} validates.
   */
  public static Builder builder(String url) {
    return new Builder().url(url);
  }

  public Builder toBuilder() {
    return new Builder()
        .url(database.url())
        .user(database.user())
        .password(database.password())
        .passwordFile(database.passwordFile() == null ? null : database.passwordFile().toString())
        .connectTimeout(database.connectTimeout())
        .connectionCheckInterval(database.connectionCheckInterval())
        .reconnectBackoff(database.reconnectMinBackoff(), database.reconnectMaxBackoff())
        .channel(channel)
        .heartbeatInterval(timing.heartbeatInterval())
        .joinedHeartbeatInterval(timing.joinedHeartbeatInterval())
        .expireAfter(timing.expireAfter())
        .probeReplyWindow(timing.probeReplyWindow())
        .sharedSecret(security.sharedSecret())
        .replayWindow(security.replayWindow())
        .maxPeersPerService(security.maxPeersPerService())
        .naming(naming);
  }

  /** A one-line description for logs, with the password and the secret redacted. */
  @Override
  public String toString() {
    return "DiscoverySettings[channel="
        + channel
        + ", "
        + database
        + ", "
        + timing
        + ", "
        + security
        + "]";
  }

  /**
   * True for a channel name we accept: letters, digits and underscores, not starting with a digit,
   * at most 63 bytes. Postgres would silently truncate a longer identifier, so that LISTEN and
   * pg_notify named different channels.
   */
  public static boolean isValidChannel(String channel) {
    return channel != null
        && CHANNEL.matcher(channel).matches()
        && channel.getBytes(StandardCharsets.UTF_8).length <= MAX_IDENTIFIER_BYTES;
  }

  /** The URL with any password in it replaced, for logs and error messages. */
  public static String redactUrl(String url) {
    if (url == null) {
      return null;
    }
    return URL_USERINFO
        .matcher(URL_PASSWORD.matcher(url).replaceAll("$1<redacted>"))
        .replaceAll("$1<redacted>@");
  }

  /** "5s", "1m30s", "0.2s": ISO-8601 without its "PT" prefix, as HOCON users write durations. */
  public static String readable(Duration duration) {
    return duration == null
        ? "null"
        : duration.isZero() ? "off" : duration.toString().substring(2).toLowerCase(Locale.ROOT);
  }

  /**
   * Collects values and checks every rule at {@link #build()}. A rule that fails throws {@link
   * InvalidSetting} naming the key as the configuration spells it (e.g. {@code expire-after}) and
   * the bad value.
   */
  public static final class Builder {
    private String url;
    private String user;
    private String password;
    private String passwordFile;
    private String channel;
    private Duration heartbeatInterval = Defaults.HEARTBEAT_INTERVAL;
    private Duration joinedHeartbeatInterval = Defaults.JOINED_HEARTBEAT_INTERVAL;
    private Duration expireAfter = Defaults.EXPIRE_AFTER;
    private Duration connectTimeout = Defaults.CONNECT_TIMEOUT;
    private Duration connectionCheckInterval = Defaults.CONNECTION_CHECK_INTERVAL;
    private Duration reconnectMinBackoff = Defaults.RECONNECT_MIN_BACKOFF;
    private Duration reconnectMaxBackoff = Defaults.RECONNECT_MAX_BACKOFF;
    private Duration probeReplyWindow = Defaults.PROBE_REPLY_WINDOW;
    private String sharedSecret;
    private Duration replayWindow = Defaults.REPLAY_WINDOW;
    private int maxPeersPerService = Defaults.MAX_PEERS_PER_SERVICE;
    private Naming naming = Naming.NEUTRAL;
    private Function<String, String> written;

    private Builder() {}

    public Builder url(String url) {
      this.url = url;
      return this;
    }

    public Builder user(String user) {
      this.user = emptyToNull(user);
      return this;
    }

    public Builder password(String password) {
      this.password = emptyToNull(password);
      return this;
    }

    /** A file holding the password, read at every connect; empty or null for none. */
    public Builder passwordFile(String path) {
      this.passwordFile = emptyToNull(path);
      return this;
    }

    public Builder channel(String channel) {
      this.channel = channel;
      return this;
    }

    public Builder heartbeatInterval(Duration value) {
      this.heartbeatInterval = value;
      return this;
    }

    public Builder joinedHeartbeatInterval(Duration value) {
      this.joinedHeartbeatInterval = value;
      return this;
    }

    public Builder expireAfter(Duration value) {
      this.expireAfter = value;
      return this;
    }

    public Builder connectTimeout(Duration value) {
      this.connectTimeout = value;
      return this;
    }

    public Builder connectionCheckInterval(Duration value) {
      this.connectionCheckInterval = value;
      return this;
    }

    public Builder probeReplyWindow(Duration value) {
      this.probeReplyWindow = value;
      return this;
    }

    public Builder sharedSecret(String secret) {
      this.sharedSecret = emptyToNull(secret);
      return this;
    }

    public Builder replayWindow(Duration value) {
      this.replayWindow = value;
      return this;
    }

    public Builder maxPeersPerService(int value) {
      this.maxPeersPerService = value;
      return this;
    }

    public Builder naming(Naming naming) {
      this.naming = Objects.requireNonNull(naming, "naming");
      return this;
    }

    public Builder reconnectBackoff(Duration min, Duration max) {
      this.reconnectMinBackoff = min;
      this.reconnectMaxBackoff = max;
      return this;
    }

    /** Heartbeat and expiry together, as tests usually change them. */
    public Builder timings(Duration heartbeatInterval, Duration expireAfter) {
      return heartbeatInterval(heartbeatInterval).expireAfter(expireAfter);
    }

    /**
     * How error messages show a key's value: as the user wrote it in configuration ("500ms"), not
     * as a {@link Duration} prints. Without it values are shown as {@link #readable} durations.
     */
    public Builder describeValuesWith(Function<String, String> written) {
      this.written = written;
      return this;
    }

    /**
     * Checks every rule and returns the settings; throws {@link InvalidSetting} on the first broken
     * one.
     */
    public DiscoverySettings build() {
      String trimmedUrl = url == null ? "" : url.trim();
      if (trimmedUrl.isEmpty()) {
        throw new InvalidSetting(
            "url",
            "is not set: give the JDBC URL of a PostgreSQL database every node can"
                + " reach, e.g. jdbc:postgresql://db:5432/app, or set the environment variable "
                + naming.environmentPrefix()
                + "_URL");
      }
      if (!trimmedUrl.startsWith("jdbc:postgresql:")
          || org.postgresql.Driver.parseURL(trimmedUrl, new Properties()) == null) {
        throw new InvalidSetting(
            "url",
            "\""
                + redactUrl(trimmedUrl)
                + "\" is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database). Discovery"
                + " connects with pgjdbc itself; other drivers, wrappers such as the AWS JDBC Wrapper"
                + " included, are not used: for tokens that change, name an authentication plugin in the"
                + " URL (authenticationPluginClassName), and for failover list the hosts with"
                + " targetServerType=primary or use the writer endpoint (see the README, Managed"
                + " PostgreSQL)");
      }
      Path passwordPath = passwordFile();
      String channel = this.channel == null ? naming.defaultChannel() : this.channel;
      if (!isValidChannel(channel)) {
        throw new InvalidSetting(
            "channel",
            "\""
                + channel
                + "\" is not a valid Postgres identifier (letters,"
                + " digits, underscore, not starting with a digit; at most 63 bytes)");
      }
      positive("heartbeat-interval", heartbeatInterval);
      atMostAnHour("heartbeat-interval", heartbeatInterval);
      Objects.requireNonNull(joinedHeartbeatInterval, "joined-heartbeat-interval");
      if (joinedHeartbeatInterval.isNegative()) {
        throw new InvalidSetting(
            "joined-heartbeat-interval",
            "must be off or positive (was "
                + value("joined-heartbeat-interval", joinedHeartbeatInterval)
                + ")");
      }
      atMostAnHour("joined-heartbeat-interval", joinedHeartbeatInterval);
      positive("expire-after", expireAfter);
      // Heartbeats come up to 10% late by design (jitter); an expiry inside that window would drop
      // live peers.
      if (expireAfter.compareTo(heartbeatInterval.plus(heartbeatInterval.dividedBy(10))) <= 0) {
        throw new InvalidSetting(
            "expire-after",
            value("expire-after", expireAfter)
                + " must be longer than"
                + " heartbeat-interval ("
                + value("heartbeat-interval", heartbeatInterval)
                + ") plus its 10% jitter,"
                + " or peers expire between two heartbeats; three heartbeats is a good value");
      }
      positive("connect-timeout", connectTimeout);
      positive("connection-check-interval", connectionCheckInterval);
      positive("reconnect-min-backoff", reconnectMinBackoff);
      positive("reconnect-max-backoff", reconnectMaxBackoff);
      if (reconnectMaxBackoff.compareTo(reconnectMinBackoff) < 0) {
        throw new InvalidSetting(
            "reconnect-max-backoff",
            value("reconnect-max-backoff", reconnectMaxBackoff)
                + " is shorter than reconnect-min-backoff ("
                + value("reconnect-min-backoff", reconnectMinBackoff)
                + ")");
      }
      Objects.requireNonNull(probeReplyWindow, "probe-reply-window");
      if (probeReplyWindow.isNegative()) {
        throw new InvalidSetting(
            "probe-reply-window",
            "must not be negative (was " + value("probe-reply-window", probeReplyWindow) + ")");
      }
      if (sharedSecret != null && sharedSecret.length() < MIN_SECRET_LENGTH) {
        // The length only: the value itself never goes into a message.
        throw new InvalidSetting(
            "shared-secret",
            "is "
                + sharedSecret.length()
                + " characters long; use at least "
                + MIN_SECRET_LENGTH
                + ", e.g. the output of `openssl rand -base64 32`");
      }
      positive("replay-window", replayWindow);
      if (maxPeersPerService < 1) {
        throw new InvalidSetting(
            "max-peers-per-service",
            "must be at least 1 (was "
                + (written == null
                    ? String.valueOf(maxPeersPerService)
                    : written.apply("max-peers-per-service"))
                + ")");
      }
      // Never more often once joined: a heartbeat-interval raised above the joined one applies
      // throughout.
      Duration joined =
          !joinedHeartbeatInterval.isZero()
                  && joinedHeartbeatInterval.compareTo(heartbeatInterval) < 0
              ? heartbeatInterval
              : joinedHeartbeatInterval;
      return new DiscoverySettings(
          new Database(
              trimmedUrl,
              user,
              password,
              passwordPath,
              connectTimeout,
              connectionCheckInterval,
              reconnectMinBackoff,
              reconnectMaxBackoff),
          channel,
          new Timing(heartbeatInterval, joined, expireAfter, probeReplyWindow),
          new Security(sharedSecret, replayWindow, maxPeersPerService),
          naming);
    }

    /**
     * The password file, checked now so that a wrong path fails at start rather than at the first
     * connect; its content is read only to connect.
     */
    private Path passwordFile() {
      if (passwordFile == null) {
        return null;
      }
      if (password != null) {
        throw new InvalidSetting(
            "password-file",
            "is set together with "
                + naming.key("password")
                + ": set one of them (the file, for a password that rotates)");
      }
      Path path;
      try {
        path = Path.of(passwordFile.trim());
      } catch (InvalidPathException e) {
        throw new InvalidSetting("password-file", "\"" + passwordFile + "\" is not a file path");
      }
      if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
        throw new InvalidSetting(
            "password-file",
            "\"" + passwordFile + "\" is not a readable file (it is read at every connect)");
      }
      return path;
    }

    private void positive(String key, Duration value) {
      Objects.requireNonNull(value, key);
      if (value.isNegative() || value.isZero()) {
        throw new InvalidSetting(key, "must be positive (was " + value(key, value) + ")");
      }
    }

    private void atMostAnHour(String key, Duration value) {
      if (value.compareTo(MAX_HEARTBEAT_INTERVAL) > 0) {
        throw new InvalidSetting(
            key,
            value(key, value)
                + " is longer than the maximum of 1 hour, the longest"
                + " interval receivers accept in an announcement");
      }
    }

    private String value(String key, Duration value) {
      return written == null ? readable(value) : written.apply(key);
    }

    private static String emptyToNull(String value) {
      return value == null || value.isEmpty() ? null : value;
    }
  }

  /**
   * A setting broke a rule; {@link #key()} is the key as configuration spells it, the message says
   * why.
   */
  public static final class InvalidSetting extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String problem;

    public InvalidSetting(String key, String problem) {
      super(key + ": " + problem);
      this.key = key;
      this.problem = problem;
    }

    public String key() {
      return key;
    }

    public String problem() {
      return problem;
    }
  }
}
