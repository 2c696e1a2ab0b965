package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.protocol.ReplayGuard;
import io.github.pgdiscovery.core.protocol.PeerTable;
import io.github.pgdiscovery.core.protocol.RejectedMessageException;
import io.github.pgdiscovery.core.protocol.MessageCodec;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The discovery protocol for one node: a dedicated thread owns one Postgres connection, listens on the channel,
 * announces the node, answers probes, and keeps the {@link PeerTable}. Other threads only read the table, set
 * flags, and wait on futures; nobody else touches the connection.
 *
 * <p>On every connect: LISTEN, announce, probe. Peers reply to the probe at once, so a newcomer knows everyone
 * within a round trip. Lookups are answered once the node has heard its own probe come back and a short window for
 * the replies has passed; before that, and while the connection is down, they wait and then fail.
 *
 * <p>Once the node has joined its cluster ({@link #joined()}) it announces at the longer joined interval. Every
 * announcement states the interval it was sent at, and receivers scale that sender's expiry to it.
 *
 * <p>Replies go to the prober alone, on its reply channel: a name derived from the main channel and the prober's
 * incarnation, which every node computes the same way and the prober also LISTENs on. A broadcast reply would be
 * delivered to every node, so that one node joining a cluster of N would cost N x N deliveries instead of N.
 */
public final class DiscoveryEngine implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DiscoveryEngine.class);

  /** How long one poll for notifications blocks; bounds how quickly the thread reacts to a flag. */
  private static final int POLL_MILLIS = 100;
  /** At most one warning about rejected payloads per this interval; the rest are counted. */
  private static final long REJECT_WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final EngineSettings settings;
  private final Announcement self;
  private final String replyChannel;
  private final EngineObserver observer;
  private final MessageCodec codec;
  private final ReplayGuard replayGuard;
  private final PeerTable peers;
  private final Backoff backoff;
  private final Thread thread;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();

  private final LongAdder sent = new LongAdder();
  private final LongAdder received = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder reconnects = new LongAdder();
  private final Map<Reason, LongAdder> rejected = new EnumMap<>(Reason.class);

  private volatile boolean announceRequested = true;
  private volatile boolean joined;
  private volatile CompletableFuture<Void> ready = new CompletableFuture<>();
  private volatile ConnectionState state = ConnectionState.CONNECTING;
  private volatile Instant stateSince = Instant.now();
  private volatile String lastError;
  private volatile int backendPid = -1;

  // Owned by the engine thread.
  private boolean announcing;
  private long sequence;
  private long lastRejectWarningNanos;
  private long rejectsSinceWarning;

  public DiscoveryEngine(EngineSettings settings, Announcement self) {
    this(settings, self, EngineObserver.NONE);
  }

  public DiscoveryEngine(EngineSettings settings, Announcement self, EngineObserver observer) {
    this.settings = settings;
    this.self = self;
    this.observer = observer;
    this.replyChannel = replyChannel(settings.channel(), self.incarnation());
    this.codec = new MessageCodec(settings.sharedSecret());
    this.replayGuard = codec.signs() ? new ReplayGuard(settings.replayWindow().toMillis()) : null;
    this.peers = new PeerTable(settings.expireAfter().toNanos(), settings.maxPeersPerService());
    this.backoff = new Backoff(settings.reconnectMinBackoff(), settings.reconnectMaxBackoff());
    for (Reason reason : Reason.values()) {
      rejected.put(reason, new LongAdder());
    }
    // Encoding our own messages here fails fast, at start, on a name too long for a notification.
    codec.encode(new Message.Announce(self, settings.joinedHeartbeatInterval().toMillis()));
    // Channel and port in the name tell the engines of several nodes in one JVM (tests, benchmarks) apart.
    this.thread = new Thread(this::run, "akka-discovery-postgres-" + settings.channel() + "-" + self.port());
    thread.setDaemon(true);
  }

  /** Starts the connection thread; returns at once. */
  public void start() {
    thread.start();
  }

  public Announcement self() {
    return self;
  }

  public EngineSettings settings() {
    return settings;
  }

  /**
   * The contact points of {@code service}, this node included when it belongs to that service. Completes at once
   * when the engine is ready; otherwise waits up to {@code timeout} for it and then fails with
   * {@link NotReadyException}. Never throws.
   */
  public CompletableFuture<List<Announcement>> contactPoints(String service, Duration timeout) {
    CompletableFuture<Void> current = ready;
    if (current.isDone()) {
      return CompletableFuture.completedFuture(peers.contactPoints(service, self, System.nanoTime()));
    }
    CompletableFuture<List<Announcement>> result = new CompletableFuture<>();
    // copy(): the timeout must fail this caller's wait, not the shared readiness future.
    current
        .copy()
        .orTimeout(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
        .whenComplete(
            (ok, error) -> {
              if (error == null) {
                result.complete(peers.contactPoints(service, self, System.nanoTime()));
              } else {
                result.completeExceptionally(new NotReadyException(notReadyReason(timeout)));
              }
            });
    return result;
  }

  /** True once connected long enough to have heard the other nodes, and until the connection is lost. */
  public boolean isReady() {
    return ready.isDone();
  }

  /**
   * Stops heartbeats and says goodbye, e.g. because the cluster removed this node. The node keeps listening, and
   * keeps answering lookups, until {@link #shutdown()}.
   */
  public void stopAnnouncing() {
    announceRequested = false;
  }

  /**
   * This node has joined its cluster: from its next heartbeat on it announces at the joined heartbeat interval,
   * stating that interval in every announcement so that peers keep it that much longer. The cluster itself now
   * watches this node; discovery only has to keep it findable for newcomers, which learn of it through their probe
   * anyway. Idempotent.
   */
  public void joined() {
    if (!joined) {
      joined = true;
      log.debug("Joined the cluster: announcing every {} from the next heartbeat on",
          settings.joinedHeartbeatInterval());
    }
  }

  /** Drops every peer with this Akka address at once, because the cluster removed it. */
  public void forgetAkkaAddress(String akkaAddress) {
    int removed = peers.forgetAkkaAddress(akkaAddress);
    if (removed > 0) {
      log.debug("Forgot {} contact point(s) of {}, removed from the cluster", removed, akkaAddress);
    }
  }

  /**
   * Says goodbye if still announcing, closes the connection and ends the thread. Idempotent.
   *
   * @return completes when the thread has ended
   */
  public CompletableFuture<Void> shutdown() {
    announceRequested = false;
    stopSignal.countDown();
    if (!thread.isAlive() && thread.getState() == Thread.State.NEW) {
      setState(ConnectionState.STOPPED);
      terminated.complete(null);
    }
    return terminated;
  }

  /** {@link #shutdown()} and waits for it, at most the connect timeout plus a second. */
  @Override
  public void close() {
    try {
      shutdown().get(settings.connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("Discovery engine on channel {} did not stop in time", settings.channel(), e);
    }
  }

  public EngineStatus status() {
    Map<Reason, Long> rejectedCounts = new EnumMap<>(Reason.class);
    rejected.forEach((reason, count) -> rejectedCounts.put(reason, count.sum()));
    return new EngineStatus(
        settings.channel(),
        state,
        stateSince,
        lastError,
        isReady(),
        self,
        announceRequested,
        heartbeatInterval(),
        peers.snapshot(System.nanoTime()),
        sent.sum(),
        received.sum(),
        accepted.sum(),
        rejectedCounts,
        reconnects.sum());
  }

  /** The server process id of the current connection, for tests and operators. */
  public OptionalInt backendPid() {
    int pid = backendPid;
    return pid < 0 ? OptionalInt.empty() : OptionalInt.of(pid);
  }

  private boolean stopping() {
    return stopSignal.getCount() == 0;
  }

  private void run() {
    int failedAttempts = 0;
    long outageStartNanos = 0;
    try {
      while (!stopping()) {
        try (ChannelConnection connection = ChannelConnection.open(settings)) {
          backendPid = connection.backendPid();
          connected(connection);
          if (failedAttempts > 0 && outageStartNanos != 0) {
            reconnects.increment();
            log.info(
                "Reconnected to PostgreSQL channel {} after {} ms and {} attempt(s); discovery is working again",
                settings.channel(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - outageStartNanos),
                failedAttempts);
          }
          failedAttempts = 0;
          outageStartNanos = 0;
          serve(connection);
        } catch (SQLException | RuntimeException e) {
          lostConnection();
          lastError = describe(e);
          if (stopping()) {
            break;
          }
          failedAttempts++;
          if (outageStartNanos == 0) {
            outageStartNanos = System.nanoTime();
            // One warning per outage, not one per retry.
            log.warn(
                "PostgreSQL channel {} at {} is unavailable ({}); lookups fail until it is back, this node keeps"
                    + " retrying with backoff up to {} and logs again when reconnected",
                settings.channel(),
                EngineSettings.redactUrl(settings.url()),
                lastError,
                settings.reconnectMaxBackoff());
          } else {
            log.debug("Reconnect attempt {} to channel {} failed: {}", failedAttempts, settings.channel(), lastError);
          }
          awaitStop(backoff.delayNanos(failedAttempts));
        }
      }
    } catch (Throwable t) {
      log.error("Discovery engine on channel {} stopped unexpectedly", settings.channel(), t);
    } finally {
      backendPid = -1;
      setState(ConnectionState.STOPPED);
      lostConnection();
      terminated.complete(null);
    }
  }

  /** LISTEN first, so that no reply to our probe can be missed; then announce, then probe. */
  private void connected(ChannelConnection connection) throws SQLException {
    connection.listen(settings.channel());
    connection.listen(replyChannel);
    announcing = announceRequested;
    if (announcing) {
      long sendingAt = System.nanoTime();
      send(connection, announcement());
      observer.announced(sendingAt);
    }
    if (settings.probing()) {
      send(connection, new Message.Probe(self.service(), self.incarnation()));
    }
    setState(ConnectionState.CONNECTED);
    log.debug("Listening on channel {} as {} (backend pid {})", settings.channel(), self, backendPid);
  }

  private void serve(ChannelConnection connection) throws SQLException {
    long now = System.nanoTime();
    long connectedAt = now;
    long nextHeartbeat = now + heartbeatDelayNanos();
    long lastHeardNanos = now;
    long probeEchoNanos = -1;
    boolean selfCheckReported = false;
    long checkInterval = settings.connectionCheckInterval().toNanos();
    int checkTimeoutSeconds = (int) Math.max(1, settings.connectTimeout().toSeconds());

    while (!stopping()) {
      if (announcing && !announceRequested) {
        announcing = false;
        send(connection, new Message.Goodbye(self));
        log.debug("Stopped announcing {} and said goodbye", self.endpoint());
      }
      now = System.nanoTime();
      if (announcing && now - nextHeartbeat >= 0) {
        send(connection, announcement());
        nextHeartbeat = now + heartbeatDelayNanos();
      }

      List<String> payloads = connection.poll(POLL_MILLIS);
      now = System.nanoTime();
      for (String payload : payloads) {
        received.increment();
        Message message = decode(payload, now);
        if (message != null && handle(connection, message, now) && probeEchoNanos < 0) {
          probeEchoNanos = now;
        }
      }

      if (!payloads.isEmpty()) {
        lastHeardNanos = now;
      } else if (now - lastHeardNanos >= checkInterval) {
        // Heard nothing for a while, not even our own heartbeat: make sure the server is still there.
        if (!connection.isValid(checkTimeoutSeconds)) {
          throw new SQLException("connection check got no answer within " + checkTimeoutSeconds + " s");
        }
        lastHeardNanos = now;
      }

      if (probeEchoNanos >= 0 && now - probeEchoNanos >= settings.probeReplyWindow().toNanos()) {
        ready.complete(null);
      } else if (probeEchoNanos < 0 && !selfCheckReported && now - connectedAt >= settings.connectTimeout().toNanos()) {
        selfCheckReported = true;
        log.error(
            "Connected to channel {} but did not hear this node's own probe within {}: notifications are not"
                + " delivered on this connection. Likely causes: a pooler in transaction mode (PgBouncer,"
                + " Supavisor), a read replica or hot standby, or a proxy that drops asynchronous messages. Point"
                + " akka.discovery.postgres.url at the primary directly. Lookups keep failing until this is fixed.",
            settings.channel(),
            settings.connectTimeout());
      }

      for (Announcement gone : peers.expire(now)) {
        log.debug("Contact point {} of {} expired: not heard within its expiry", gone.endpoint(), gone.service());
      }
    }
    if (announcing) {
      announcing = false;
      send(connection, new Message.Goodbye(self));
    }
  }

  private Message decode(String payload, long now) {
    try {
      MessageCodec.Envelope envelope = codec.open(payload);
      if (replayGuard != null) {
        replayGuard.check(envelope, System.currentTimeMillis());
      }
      return envelope.message();
    } catch (RejectedMessageException e) {
      reject(e, now);
      return null;
    }
  }

  /** Counts a dropped message and warns about drops at most every 10 s, with a hint at the likely cause. */
  private void reject(RejectedMessageException e, long now) {
    rejected.get(e.reason()).increment();
    rejectsSinceWarning++;
    if (lastRejectWarningNanos == 0 || now - lastRejectWarningNanos >= REJECT_WARNING_INTERVAL_NANOS) {
      log.warn(
          "Dropped {} notification(s) on channel {}, latest: {} ({}). {} Further drops are logged at most every"
              + " 10 s.",
          rejectsSinceWarning,
          settings.channel(),
          e.getMessage(),
          e.reason(),
          hint(e.reason()));
      lastRejectWarningNanos = now;
      rejectsSinceWarning = 0;
    }
  }

  private static String hint(Reason reason) {
    return switch (reason) {
      case MISSING_SIGNATURE, BAD_SIGNATURE -> "Nodes with another shared secret, or none, use this channel: a"
          + " separate cluster, or a node of this one with the wrong akka.discovery.postgres.shared-secret.";
      case STALE -> "Are the nodes' clocks synchronised? Otherwise widen akka.discovery.postgres.replay-window.";
      case REPLAYED -> "Somebody with access to the database may be replaying recorded messages.";
      case TABLE_FULL -> "More contact points announce this service than akka.discovery.postgres"
          + ".max-peers-per-service allows; raise it if that many nodes are real.";
      default -> "Is another application, or another version of this library, using this channel?";
    };
  }

  /**
   * Acts on a valid message and counts it as accepted, or as rejected if the peer table has no room for it.
   *
   * @return true if the message is this node's own probe come back (own announcement, without probing): proof
   *     that notifications are delivered on this connection
   */
  private boolean handle(ChannelConnection connection, Message message, long now) throws SQLException {
    if (message instanceof Message.Probe probe) {
      accepted.increment();
      if (probe.senderIncarnation().equals(self.incarnation())) {
        return true;
      }
      if (announcing && settings.probing() && probe.service().equals(self.service())) {
        send(connection, replyChannel(settings.channel(), probe.incarnation()), announcement());
      }
    } else if (message instanceof Message.Announce announce) {
      Announcement node = announce.node();
      if (node.incarnation().equals(self.incarnation())) {
        accepted.increment();
        return !settings.probing();
      }
      PeerTable.Admission admission = peers.admit(node, now, settings.expireAfterNanos(announce.intervalMillis()));
      if (admission == PeerTable.Admission.FULL) {
        reject(new RejectedMessageException(Reason.TABLE_FULL,
            "no room for " + node.endpoint() + " in service " + node.service()), now);
        return false;
      }
      accepted.increment();
      if (admission == PeerTable.Admission.NEW) {
        observer.peerAdded(node, now);
        log.debug("Heard {} at {}", node.service(), node.endpoint());
      }
    } else if (message instanceof Message.Goodbye goodbye) {
      accepted.increment();
      if (peers.goodbye(goodbye.node())) {
        log.debug("Goodbye from {} at {}", goodbye.node().service(), goodbye.node().endpoint());
      }
    }
    return false;
  }

  private void send(ChannelConnection connection, Message message) throws SQLException {
    send(connection, settings.channel(), message);
  }

  private void send(ChannelConnection connection, String channel, Message message) throws SQLException {
    connection.send(channel, codec.encode(message, ++sequence, System.currentTimeMillis()));
    sent.increment();
  }

  /**
   * The channel on which the node with {@code incarnation} hears replies to its probes: "pgd_" and 32 hex digits
   * of a hash of the main channel and the incarnation, so it is always a valid identifier, differs per channel,
   * and is not a name the sender of a probe can choose.
   */
  static String replyChannel(String channel, String incarnation) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256")
          .digest((channel + "/" + incarnation).getBytes(StandardCharsets.UTF_8));
      return "pgd_" + HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }

  /** This node's announcement, stating the interval it announces at now. */
  private Message.Announce announcement() {
    return new Message.Announce(self, heartbeatInterval().toMillis());
  }

  private Duration heartbeatInterval() {
    return joined ? settings.joinedHeartbeatInterval() : settings.heartbeatInterval();
  }

  /**
   * Uniform within ±10% of the interval: spreads nodes out so they do not notify in step, while the mean stays the
   * interval, so N nodes send N / heartbeat-interval notifications a second. expire-after is checked to exceed the
   * interval; at its default of three intervals a peer misses two heartbeats before it expires.
   */
  private long heartbeatDelayNanos() {
    long interval = heartbeatInterval().toNanos();
    return (long) (interval * (0.9 + 0.2 * ThreadLocalRandom.current().nextDouble()));
  }

  private void lostConnection() {
    backendPid = -1;
    if (state != ConnectionState.STOPPED) {
      setState(ConnectionState.RECONNECTING);
    }
    if (ready.isDone()) {
      ready = new CompletableFuture<>();
    }
  }

  private void setState(ConnectionState newState) {
    if (state != newState) {
      state = newState;
      stateSince = Instant.now();
    }
  }

  private void awaitStop(long nanos) {
    try {
      stopSignal.await(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopSignal.countDown();
    }
  }

  private String notReadyReason(Duration timeout) {
    String error = lastError;
    return switch (state) {
      case CONNECTED -> "PostgreSQL discovery channel " + settings.channel()
          + " was connected too recently, or has not heard this node's own probe, to answer within " + timeout;
      case STOPPED -> "PostgreSQL discovery on channel " + settings.channel() + " is stopped";
      default -> "PostgreSQL discovery channel " + settings.channel() + " is not connected (since " + stateSince
          + (error == null ? "" : ", last error: " + error) + "); no answer within " + timeout;
    };
  }

  /** A one-line cause for logs; pgjdbc's messages never contain the password, and the URL is redacted. */
  private String describe(Throwable e) {
    String message = e.getMessage();
    if (message == null) {
      message = e.getClass().getSimpleName();
    }
    return message.replace(settings.url(), EngineSettings.redactUrl(settings.url()));
  }
}
