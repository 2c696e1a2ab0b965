package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What the engine needs to know, already validated by whoever read it from configuration.
 *
 * @param url JDBC URL of the database; driver options such as TLS go in it
 * @param user database user, or null to take it from the URL
 * @param password database password, or null to take it from the URL; never logged
 * @param channel the LISTEN/NOTIFY channel, a valid identifier (see {@link #isValidChannel})
 * @param heartbeatInterval how often a node re-announces itself until it has joined its cluster
 * @param joinedHeartbeatInterval how often it re-announces itself once it has joined (see
 *     {@link DiscoveryEngine#joined()}); at least {@code heartbeatInterval}, at most {@link #MAX_HEARTBEAT_INTERVAL}.
 *     Every announcement carries the interval it was sent at, so that receivers scale that sender's expiry to it
 * @param expireAfter how long a peer announcing at {@code heartbeatInterval} stays in the table without being heard;
 *     a peer announcing at a longer interval stays proportionally longer
 * @param connectTimeout bound on connecting and on every round trip to the server
 * @param connectionCheckInterval how long the listener may hear nothing before it tests the connection
 * @param reconnectMinBackoff first delay before reconnecting after a failure
 * @param reconnectMaxBackoff the delay between reconnection attempts grows up to this
 * @param probeReplyWindow after hearing its own probe, how long a node waits for replies before answering lookups
 * @param sharedSecret key for signing and checking every message (HMAC-SHA256), or null to neither sign nor check;
 *     never logged
 * @param replayWindow with a shared secret: messages whose timestamp is further than this from the receiver's
 *     clock are dropped
 * @param maxPeersPerService at most this many contact points are kept per service; further new ones are dropped
 * @param probing true (the protocol): a node probes on connect and answers probes at once; false: heartbeats only,
 *     as libcluster_postgres does, so peers learn of each other at their next heartbeat. False exists for
 *     comparison benchmarks; lookups are answered once a node hears its own first announcement.
 */
public record EngineSettings(
    String url,
    String user,
    String password,
    String channel,
    Duration heartbeatInterval,
    Duration joinedHeartbeatInterval,
    Duration expireAfter,
    Duration connectTimeout,
    Duration connectionCheckInterval,
    Duration reconnectMinBackoff,
    Duration reconnectMaxBackoff,
    Duration probeReplyWindow,
    String sharedSecret,
    Duration replayWindow,
    int maxPeersPerService,
    boolean probing) {

  /** The longest interval an announcement may state; receivers reject longer ones (see {@link MessageCodec}). */
  public static final Duration MAX_HEARTBEAT_INTERVAL = Duration.ofMillis(MessageCodec.MAX_INTERVAL_MILLIS);

  private static final Pattern CHANNEL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final int MAX_IDENTIFIER_BYTES = 63;
  private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&]*");
  private static final Pattern URL_USERINFO = Pattern.compile("(//)[^/@]*@");

  public EngineSettings {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    Objects.requireNonNull(joinedHeartbeatInterval, "joinedHeartbeatInterval");
    Objects.requireNonNull(expireAfter, "expireAfter");
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(connectionCheckInterval, "connectionCheckInterval");
    Objects.requireNonNull(reconnectMinBackoff, "reconnectMinBackoff");
    Objects.requireNonNull(reconnectMaxBackoff, "reconnectMaxBackoff");
    Objects.requireNonNull(probeReplyWindow, "probeReplyWindow");
    Objects.requireNonNull(replayWindow, "replayWindow");
    if (sharedSecret != null && sharedSecret.isEmpty()) {
      sharedSecret = null;
    }
    if (maxPeersPerService < 1) {
      throw new IllegalArgumentException("maxPeersPerService must be positive");
    }
    if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
      throw new IllegalArgumentException("heartbeatInterval must be positive");
    }
    if (joinedHeartbeatInterval.compareTo(heartbeatInterval) < 0
        || joinedHeartbeatInterval.compareTo(MAX_HEARTBEAT_INTERVAL) > 0) {
      throw new IllegalArgumentException("joinedHeartbeatInterval must be from heartbeatInterval ("
          + heartbeatInterval + ") to " + MAX_HEARTBEAT_INTERVAL + ", was " + joinedHeartbeatInterval);
    }
    if (!isValidChannel(channel)) {
      throw new IllegalArgumentException("channel \"" + channel + "\" is not a valid identifier");
    }
  }

  /** Settings with the library's defaults for everything but the database and channel. */
  public static EngineSettings defaults(String url, String user, String password, String channel) {
    return new EngineSettings(
        url,
        user,
        password,
        channel,
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        Duration.ofSeconds(15),
        Duration.ofSeconds(5),
        Duration.ofSeconds(5),
        Duration.ofMillis(200),
        Duration.ofSeconds(10),
        Duration.ofMillis(300),
        null,
        Duration.ofSeconds(30),
        1024,
        true);
  }

  public EngineSettings withUrl(String url) {
    return new EngineSettings(url, user, password, channel, heartbeatInterval, joinedHeartbeatInterval, expireAfter,
        connectTimeout, connectionCheckInterval, reconnectMinBackoff, reconnectMaxBackoff, probeReplyWindow,
        sharedSecret, replayWindow, maxPeersPerService, probing);
  }

  /** New heartbeat and expiry; the joined heartbeat stays as it is, or becomes the heartbeat if that is longer. */
  public EngineSettings withTimings(Duration heartbeatInterval, Duration expireAfter) {
    Duration joined = joinedHeartbeatInterval.compareTo(heartbeatInterval) < 0
        ? heartbeatInterval : joinedHeartbeatInterval;
    return new EngineSettings(url, user, password, channel, heartbeatInterval, joined, expireAfter, connectTimeout,
        connectionCheckInterval, reconnectMinBackoff, reconnectMaxBackoff, probeReplyWindow, sharedSecret,
        replayWindow, maxPeersPerService, probing);
  }

  public EngineSettings withJoinedHeartbeat(Duration joinedHeartbeatInterval) {
    return new EngineSettings(url, user, password, channel, heartbeatInterval, joinedHeartbeatInterval, expireAfter,
        connectTimeout, connectionCheckInterval, reconnectMinBackoff, reconnectMaxBackoff, probeReplyWindow,
        sharedSecret, replayWindow, maxPeersPerService, probing);
  }

  /**
   * How long a peer that announces every {@code senderIntervalMillis} stays in the table without being heard:
   * {@code expireAfter}, scaled by how much longer than {@code heartbeatInterval} the sender's interval is, so it
   * may miss as many heartbeats as a peer at the normal rate. 0 (interval not stated) means {@code expireAfter}.
   */
  public long expireAfterNanos(long senderIntervalMillis) {
    long base = expireAfter.toNanos();
    long normal = heartbeatInterval.toMillis();
    if (senderIntervalMillis <= normal) {
      return base;
    }
    return (long) (base * ((double) senderIntervalMillis / normal));
  }

  public EngineSettings withConnectionChecks(Duration connectTimeout, Duration connectionCheckInterval) {
    return new EngineSettings(url, user, password, channel, heartbeatInterval, joinedHeartbeatInterval, expireAfter,
        connectTimeout, connectionCheckInterval, reconnectMinBackoff, reconnectMaxBackoff, probeReplyWindow,
        sharedSecret, replayWindow, maxPeersPerService, probing);
  }

  public EngineSettings withReconnectBackoff(Duration min, Duration max) {
    return new EngineSettings(url, user, password, channel, heartbeatInterval, joinedHeartbeatInterval, expireAfter,
        connectTimeout, connectionCheckInterval, min, max, probeReplyWindow, sharedSecret, replayWindow,
        maxPeersPerService, probing);
  }

  /** Heartbeats only, no probes: the libcluster_postgres behaviour, for comparison benchmarks. */
  public EngineSettings withoutProbing() {
    return new EngineSettings(url, user, password, channel, heartbeatInterval, joinedHeartbeatInterval, expireAfter,
        connectTimeout, connectionCheckInterval, reconnectMinBackoff, reconnectMaxBackoff, probeReplyWindow,
        sharedSecret, replayWindow, maxPeersPerService, false);
  }

  public EngineSettings withSecurity(String sharedSecret, Duration replayWindow, int maxPeersPerService) {
    return new EngineSettings(url, user, password, channel, heartbeatInterval, joinedHeartbeatInterval, expireAfter,
        connectTimeout, connectionCheckInterval, reconnectMinBackoff, reconnectMaxBackoff, probeReplyWindow,
        sharedSecret, replayWindow, maxPeersPerService, probing);
  }

  /**
   * True for a channel name we accept: letters, digits and underscores, not starting with a digit, at most 63
   * bytes. Postgres would silently truncate a longer identifier, so that LISTEN and pg_notify named different
   * channels.
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
    return URL_USERINFO.matcher(URL_PASSWORD.matcher(url).replaceAll("$1<redacted>")).replaceAll("$1<redacted>@");
  }

  @Override
  public String toString() {
    return "EngineSettings[url=" + redactUrl(url) + ", user=" + user
        + ", password=" + (password == null || password.isEmpty() ? "<none>" : "<redacted>")
        + ", channel=" + channel + ", heartbeatInterval=" + heartbeatInterval
        + ", joinedHeartbeatInterval=" + joinedHeartbeatInterval + ", expireAfter=" + expireAfter
        + ", connectTimeout=" + connectTimeout + ", connectionCheckInterval=" + connectionCheckInterval
        + ", reconnectBackoff=" + reconnectMinBackoff + ".." + reconnectMaxBackoff
        + ", probeReplyWindow=" + probeReplyWindow
        + ", sharedSecret=" + (sharedSecret == null ? "<none>" : "<redacted>")
        + ", replayWindow=" + replayWindow + ", maxPeersPerService=" + maxPeersPerService
        + (probing ? "" : ", heartbeat-only") + "]";
  }
}
