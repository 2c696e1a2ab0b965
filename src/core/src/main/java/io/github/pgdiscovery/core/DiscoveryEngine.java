package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Effect;
import io.github.pgdiscovery.core.protocol.Effects;
import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.protocol.Protocol;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.core.transport.PgTransport;
import io.github.pgdiscovery.core.transport.Transport;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime of one node's discovery: a dedicated thread owns one database connection ({@link
 * Transport}), feeds the {@link DiscoveryProtocol} what happens on it and carries out what the
 * protocol answers. It reconnects with backoff (one warning per outage), checks a connection that
 * went quiet, and holds the readiness gate behind {@link #contactPoints}. Other threads read
 * through the protocol under its lock and never touch the connection.
 */
public final class DiscoveryEngine implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DiscoveryEngine.class);

  /**
   * The longest one poll for notifications blocks; bounds how quickly the thread reacts to a
   * request.
   */
  private static final int MAX_POLL_MILLIS = 100;

  /** How often a waiting lookup looks again, for a service whose first probe is still out. */
  private static final long LOOKUP_RETRY_MILLIS = 50;

  /**
   * Where waiting lookups look again: one daemon thread for every engine of the JVM, the library's
   * own, so that a lookup waiting for the protocol's lock holds no thread the JDK or the toolkit
   * shares.
   */
  private static final ScheduledExecutorService LOOKUP_TIMER =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "pg-discovery-lookup-timer");
            thread.setDaemon(true);
            return thread;
          });

  /** Opens connections; the runtime's one seam, for the pgjdbc transport or a test's. */
  @FunctionalInterface
  public interface TransportFactory {
    Transport open(DiscoverySettings settings) throws SQLException;
  }

  private final DiscoverySettings settings;
  private final Protocol protocol; // guarded by itself
  private final EngineObserver observer;
  private final TransportFactory transports;
  private final Backoff backoff;
  private final Sink sink = new Sink();
  private final ServerCheck serverCheck;
  private final Thread thread;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();

  private volatile CompletableFuture<Void> ready = new CompletableFuture<>();
  private volatile ConnectionState state = ConnectionState.CONNECTING;
  private volatile Instant stateSince = Instant.now();
  private volatile String lastError;

  /** Null while not connected; any int otherwise, as a pooler hands out random ones. */
  private volatile Integer backendPid;

  private volatile long reconnects;
  // The connection thread's: when start() was called, and how long the first connection took (-1
  // until connected), for the one line that says when lookups were first answered.
  private long startedNanos;
  private long firstConnectMillis = -1;
  private boolean answeredOnce;
  private volatile long connectionAttempts; // written by the connection thread alone
  // The connection thread's: what was wrong with the server when last logged, null when nothing.
  private ServerCheck.UnsuitableServer.Kind unsuitable;

  public DiscoveryEngine(DiscoverySettings settings, Announcement self) {
    this(settings, self, EngineObserver.NONE);
  }

  public DiscoveryEngine(DiscoverySettings settings, Announcement self, EngineObserver observer) {
    this(new DiscoveryProtocol(settings, self, new SplittableRandom()), observer);
  }

  /**
   * Runs another protocol: the benchmarks compare the library's with heartbeats only, as
   * libcluster_postgres does.
   */
  public DiscoveryEngine(Protocol protocol, EngineObserver observer) {
    this(protocol, observer, PgTransport::open);
  }

  public DiscoveryEngine(Protocol protocol, EngineObserver observer, TransportFactory transports) {
    DiscoverySettings settings = protocol.settings();
    Announcement self = protocol.self();
    this.settings = settings;
    this.observer = observer;
    this.transports = transports;
    this.protocol = protocol;
    this.serverCheck = new ServerCheck(settings, transports);
    this.backoff =
        new Backoff(
            settings.database().reconnectMinBackoff(),
            settings.database().reconnectMaxBackoff(),
            new SplittableRandom());
    // Channel and port in the name tell the engines of several nodes in one JVM (tests, benchmarks)
    // apart.
    this.thread =
        new Thread(
            this::run,
            settings.naming().applicationName() + "-" + settings.channel() + "-" + self.port());
    thread.setDaemon(true);
  }

  /** Starts the connection thread; returns at once. */
  public void start() {
    Announcement self = protocol.self();
    log.info(
        "PostgreSQL discovery announcing service [{}] at {} on channel [{}] every {}, {} once Up",
        self.service(),
        self.endpoint(),
        settings.channel(),
        DiscoverySettings.readable(settings.timing().heartbeatInterval()),
        settings.timing().silentOnceJoined()
            ? "then silent (watched by the cluster)"
            : "every " + DiscoverySettings.readable(settings.timing().joinedHeartbeatInterval()));
    startedNanos = System.nanoTime();
    thread.start();
  }

  public Announcement self() {
    return protocol.self();
  }

  public DiscoverySettings settings() {
    return settings;
  }

  /**
   * The contact points of {@code service}, this node included when it belongs to that service.
   * Completes at once when lookups are answered; otherwise waits up to {@code timeout} and then
   * fails with {@link NotReadyException}. Never throws.
   */
  public CompletableFuture<List<Announcement>> contactPoints(String service, Duration timeout) {
    CompletableFuture<List<Announcement>> result = new CompletableFuture<>();
    attemptLookup(service, System.nanoTime() + Math.max(1, timeout.toNanos()), timeout, result);
    return result;
  }

  /**
   * A lookup as a discovery front answers it: the contact points turned into the toolkit's answer,
   * or, when not ready in time, the toolkit's timeout exception. The future fails with that
   * exception itself, never a {@link java.util.concurrent.CompletionException} around it: Cluster
   * Bootstrap matches on the exception's type, so the result is a fresh future completed with the
   * bare exception rather than a dependent stage (whose thrown exceptions the JDK wraps). Never
   * throws.
   */
  public <R> CompletableFuture<R> lookup(
      String service,
      Duration timeout,
      Function<List<Announcement>, R> answer,
      Function<String, ? extends Throwable> notReady) {
    CompletableFuture<R> result = new CompletableFuture<>();
    contactPoints(service, timeout)
        .whenComplete(
            (contactPoints, error) -> {
              if (error instanceof NotReadyException) {
                result.completeExceptionally(notReady.apply(error.getMessage()));
              } else if (error != null) {
                result.completeExceptionally(error);
              } else {
                try {
                  result.complete(answer.apply(contactPoints));
                } catch (RuntimeException e) {
                  result.completeExceptionally(e);
                }
              }
            });
    return result;
  }

  private void attemptLookup(
      String service,
      long deadline,
      Duration timeout,
      CompletableFuture<List<Announcement>> result) {
    long now = System.nanoTime();
    Optional<List<Announcement>> answer;
    String reason = null;
    synchronized (protocol) {
      answer = protocol.lookup(service, now);
      if (answer.isEmpty() && now - deadline >= 0) {
        reason = protocol.notReadyReason(now);
      }
    }
    if (answer.isPresent()) {
      result.complete(answer.get());
      return;
    }
    if (reason != null) {
      result.completeExceptionally(new NotReadyException(notReadyText(reason, timeout)));
      return;
    }
    long waitMillis =
        Math.max(
            1, Math.min(TimeUnit.NANOSECONDS.toMillis(deadline - now) + 1, LOOKUP_RETRY_MILLIS));
    // copy(): the timer must end this caller's wait, not the shared readiness future. The next
    // attempt runs on the library's own timer thread, never on a thread the JDK shares (such as
    // the CompletableFuture delayer), as it takes the protocol's lock.
    CompletableFuture<Void> wake = ready.copy();
    ScheduledFuture<?> timer =
        LOOKUP_TIMER.schedule(() -> wake.complete(null), waitMillis, TimeUnit.MILLISECONDS);
    wake.whenCompleteAsync(
        (ok, error) -> {
          timer.cancel(false);
          attemptLookup(service, deadline, timeout, result);
        },
        LOOKUP_TIMER);
  }

  /** True while lookups of this node's own service are answered. */
  public boolean isReady() {
    return ready.isDone();
  }

  /**
   * The readiness check's answer: true while this node is Up in its cluster (the cluster reported
   * it Up and has not removed it, and it is not shutting down), or while lookups of its own service
   * are answered. So a formed cluster stays ready through a database outage, which it does not
   * need, while a node that has not joined is ready only when discovery can serve it: not with a
   * bad setting, a standby, a pooler in transaction mode or a database that is down.
   */
  public boolean isReadyToServe() {
    if (ready.isDone()) {
      return true;
    }
    synchronized (protocol) {
      return protocol.isUpInCluster();
    }
  }

  /**
   * Stops heartbeats and says goodbye, e.g. because the cluster removed this node. The node keeps
   * listening, and keeps answering lookups, until {@link #shutdown()}.
   */
  public void stopAnnouncing() {
    apply(() -> protocol.stopAnnouncing());
  }

  /**
   * This node has joined its cluster: it announces at the joined interval from its next heartbeat
   * on.
   */
  public void joined() {
    apply(protocol::joined);
  }

  /** The cluster says this member is Up; for this node that means it has joined. */
  public void memberUp(String address, long uid) {
    apply(() -> protocol.memberUp(address, uid));
  }

  /**
   * The cluster removed this member: this node stops announcing and says goodbye; another member's
   * contact points are dropped now, not at expiry.
   */
  public void memberRemoved(String address, long uid) {
    apply(() -> protocol.memberRemoved(address, uid));
  }

  /**
   * Runs a request from another thread; what it yields is only ever notices and removals, never a
   * send.
   */
  private void apply(Supplier<List<Effect>> request) {
    List<Effect> effects;
    synchronized (protocol) {
      effects = request.get();
    }
    Effects.carryOut(effects, sink);
  }

  /**
   * Says goodbye if still announcing, closes the connection and ends the thread. Idempotent.
   *
   * @return completes when the thread has ended
   */
  public CompletableFuture<Void> shutdown() {
    synchronized (protocol) {
      protocol.stopAnnouncing();
    }
    stopSignal.countDown();
    if (thread.getState() == Thread.State.NEW) {
      setState(ConnectionState.STOPPED);
      terminated.complete(null);
    }
    return terminated;
  }

  /** {@link #shutdown()} and waits for it, at most the connect timeout plus a second. */
  @Override
  public void close() {
    try {
      shutdown().get(settings.database().connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("Discovery engine on channel {} did not stop in time", settings.channel(), e);
    }
  }

  public EngineStatus status() {
    DiscoveryProtocol.Snapshot snapshot;
    synchronized (protocol) {
      snapshot = protocol.snapshot(System.nanoTime());
    }
    return new EngineStatus(
        settings.channel(),
        state,
        stateSince,
        lastError,
        protocol.self(),
        snapshot,
        reconnects,
        connectionAttempts);
  }

  /** The server process id of the current connection, for tests and operators. */
  public OptionalInt backendPid() {
    Integer pid = backendPid;
    return pid == null ? OptionalInt.empty() : OptionalInt.of(pid);
  }

  private boolean stopping() {
    return stopSignal.getCount() == 0;
  }

  private void run() {
    int failedAttempts = 0;
    long outageStartNanos = 0;
    try {
      while (!stopping()) {
        connectionAttempts++;
        try (Transport transport = transports.open(settings)) {
          backendPid = transport.backendPid();
          serverCheck.verify(transport);
          if (unsuitable != null) {
            log.info(
                "PostgreSQL channel {} is now reached on a server that delivers notifications",
                settings.channel());
            unsuitable = null;
          }
          ConnectionLoop loop = connected(transport);
          if (failedAttempts > 0 && outageStartNanos != 0) {
            reconnects++;
            log.info(
                "Reconnected to PostgreSQL channel {} after {} ms and {} attempt(s); discovery is working again",
                settings.channel(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - outageStartNanos),
                failedAttempts);
          }
          failedAttempts = 0;
          outageStartNanos = 0;
          serve(transport, loop);
        } catch (ServerCheck.UnsuitableServer e) {
          lostConnection();
          setState(ConnectionState.UNSUITABLE_SERVER);
          lastError = e.getMessage();
          if (e.kind() != unsuitable) {
            // Once per cause: the retries that find the same server say nothing new.
            unsuitable = e.kind();
            log.error(e.getMessage());
          } else {
            log.debug(e.getMessage());
          }
          // Not an outage: retrying sooner would only load the pooler or standby.
          awaitStop(backoff.delayNanos(Integer.MAX_VALUE));
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
                DiscoverySettings.redactUrl(settings.database().url()),
                lastError,
                DiscoverySettings.readable(settings.database().reconnectMaxBackoff()));
          } else {
            log.debug(
                "Reconnect attempt {} to channel {} failed: {}",
                failedAttempts,
                settings.channel(),
                lastError);
          }
          awaitStop(backoff.delayNanos(failedAttempts));
        }
      }
    } catch (Throwable t) {
      log.error("Discovery engine on channel {} stopped unexpectedly", settings.channel(), t);
    } finally {
      lostConnection();
      setState(ConnectionState.STOPPED);
      terminated.complete(null);
    }
  }

  /**
   * LISTEN first, so that no reply to our probe can be missed; then what the protocol sends on
   * connect.
   */
  private ConnectionLoop connected(Transport transport) throws SQLException {
    for (String channel : protocol.channels()) {
      transport.listen(channel);
    }
    long sendingAt = System.nanoTime();
    ConnectionLoop loop = new ConnectionLoop(protocol, sink, settings, sendingAt);
    List<Effect.Send> sends = loop.connected(sendingAt, System.currentTimeMillis());
    if (sends.stream().anyMatch(send -> send.message() instanceof Message.Announce)) {
      observer.announced(sendingAt);
    }
    if (firstConnectMillis < 0) {
      firstConnectMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }
    send(transport, loop, sends);
    setState(ConnectionState.CONNECTED);
    log.debug(
        "Listening on channel {} as {} (backend pid {})",
        settings.channel(),
        protocol.self(),
        backendPid);
    return loop;
  }

  /** The connection thread's loop over one connection; see {@link ConnectionLoop} for its rules. */
  private void serve(Transport transport, ConnectionLoop loop) throws SQLException {
    int checkTimeoutSeconds = (int) Math.max(1, settings.database().connectTimeout().toSeconds());
    while (!stopping()) {
      send(
          transport,
          loop,
          loop.read(transport.arrived(), System.nanoTime(), System.currentTimeMillis()));
      long now = System.nanoTime();
      send(transport, loop, loop.tick(now, System.currentTimeMillis()));
      // At least every MAX_POLL_MILLIS, to notice a stop; ticks before a deadline change nothing.
      long wait = loop.nextDeadline(now) - now;
      int pollMillis =
          (int) Math.max(1, Math.min(MAX_POLL_MILLIS, TimeUnit.NANOSECONDS.toMillis(wait)));
      List<String> payloads = transport.poll(pollMillis);
      send(transport, loop, loop.read(payloads, System.nanoTime(), System.currentTimeMillis()));
      now = System.nanoTime();
      if (loop.checkDue(now)) {
        if (!transport.isValid(checkTimeoutSeconds)) {
          throw new SQLException(
              "connection check got no answer within " + checkTimeoutSeconds + " s");
        }
        loop.sent(now);
      }
    }
    // Stopping: the goodbye, if still announcing, goes out before the connection closes.
    synchronized (protocol) {
      protocol.stopAnnouncing();
    }
    send(transport, loop, loop.tick(System.nanoTime(), System.currentTimeMillis()));
  }

  /** Commits the sends of one step together, in one transaction. */
  private static void send(Transport transport, ConnectionLoop loop, List<Effect.Send> sends)
      throws SQLException {
    if (sends.isEmpty()) {
      return;
    }
    List<Transport.Outgoing> outgoing = new ArrayList<>(sends.size());
    for (Effect.Send send : sends) {
      outgoing.add(new Transport.Outgoing(send.channel(), send.payload()));
    }
    transport.send(outgoing);
    loop.sent(System.nanoTime());
  }

  /** What the engine does with effects other than sends. */
  private final class Sink implements Effects.Sink {
    @Override
    public void readinessChanged(boolean nowReady) {
      readiness(nowReady);
    }

    @Override
    public void peerAdded(Announcement peer) {
      observer.peerAdded(peer, System.nanoTime());
    }

    @Override
    public void peerRemoved(Announcement peer, String why) {}

    @Override
    public void notice(Effect.Notice notice) {
      logNotice(notice);
    }
  }

  private void readiness(boolean nowReady) {
    if (nowReady) {
      if (!answeredOnce) {
        // Once per start: how long the node took to answer its first lookup, and how much of that
        // was connecting (the rest is waiting for answers to its probes).
        answeredOnce = true;
        log.info(
            "PostgreSQL discovery on channel {} answers lookups, {} ms after it started (connected after {} ms)",
            settings.channel(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos),
            firstConnectMillis);
      }
      ready.complete(null);
    } else if (ready.isDone()) {
      ready = new CompletableFuture<>();
    }
  }

  private static void logNotice(Effect.Notice notice) {
    switch (notice.level()) {
      case DEBUG -> log.debug(notice.text());
      case INFO -> log.info(notice.text());
      case WARN -> log.warn(notice.text());
      case ERROR -> log.error(notice.text());
    }
  }

  private void lostConnection() {
    backendPid = null;
    if (state != ConnectionState.STOPPED) {
      setState(ConnectionState.RECONNECTING);
    }
    List<Effect> effects;
    synchronized (protocol) {
      effects = protocol.disconnected(System.nanoTime());
    }
    Effects.carryOut(effects, sink);
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

  private String notReadyText(String reason, Duration timeout) {
    String error = lastError;
    return switch (state) {
      case STOPPED -> "PostgreSQL discovery on channel " + settings.channel() + " is stopped";
      case CONNECTED -> reason + "; no answer within " + DiscoverySettings.readable(timeout);
      case UNSUITABLE_SERVER ->
          (error == null ? "PostgreSQL discovery reached a server that cannot carry it" : error)
              + " No answer within "
              + DiscoverySettings.readable(timeout);
      default ->
          "PostgreSQL discovery channel "
              + settings.channel()
              + " is not connected (since "
              + stateSince
              + (error == null ? "" : ", last error: " + error)
              + "); no answer within "
              + DiscoverySettings.readable(timeout);
    };
  }

  /**
   * A one-line cause for logs; pgjdbc's messages never contain the password, and the URL is
   * redacted.
   */
  private String describe(Throwable e) {
    String message = e.getMessage();
    if (message == null) {
      message = e.getClass().getSimpleName();
    }
    String url = settings.database().url();
    return message.replace(url, DiscoverySettings.redactUrl(url));
  }
}
