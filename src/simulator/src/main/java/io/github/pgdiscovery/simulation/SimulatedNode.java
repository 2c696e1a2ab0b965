package io.github.pgdiscovery.simulation;

import io.github.pgdiscovery.core.Backoff;
import io.github.pgdiscovery.core.ConnectionLoop;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Effect;
import io.github.pgdiscovery.core.protocol.Effects;
import io.github.pgdiscovery.core.protocol.Protocol;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * One node: a {@link DiscoveryProtocol} and what DiscoveryEngine does around it, on the
 * simulation's virtual time. Connect (LISTEN on {@link DiscoveryProtocol#channels()} first, then
 * {@code connected}); carry out effects, the messages of one step (a tick, or the answers to
 * everything one read brought) together in one statement and one commit, statements one after the
 * other on the one connection; feed what arrives to {@code received} and tick right after; tick at
 * {@code nextDeadline}; check a connection that heard nothing for {@code connection-check-interval}
 * with a round trip that fails after {@code connect-timeout}; reconnect with the engine's backoff
 * (exponential from reconnect-min-backoff, ±20%) after a failure.
 *
 * <p>The node's clocks: the monotonic one starts at an arbitrary reading (negative ones included,
 * as System.nanoTime allows), the wall clock may be skewed. On a stalled connection nothing
 * arrives, and a statement sent on it blocks the node until TCP gives up ({@code tcpTimeout}); the
 * connection check catches a stall only while the node is not blocked in a send, as in the engine,
 * where pgjdbc has no socket timeout.
 */
public final class SimulatedNode {

  /** Where the node is in its life. */
  public enum Life {
    CREATED,
    RUNNING,
    CRASHED,
    STOPPED
  }

  private record Arrival(long at, List<String> payloads) {}

  private final class Connection {
    SimulatedPostgres.Backend backend;
    long listenedAt;

    /** When the first statement on this connection (its announcement) committed, or -1. */
    long announcedAt = -1;

    long lastArrival;
    long lastDelivery;

    /** What reached the client and is not read yet, in order: when it arrived, and its payloads. */
    final ArrayDeque<Arrival> inbox = new ArrayDeque<>();

    /** The engine's loop over this connection, once it listens. */
    ConnectionLoop loop;

    boolean established;
    boolean stalled;
    boolean blocked;
  }

  private final Simulation sim;
  private final int index;
  private final Announcement self;
  private final Protocol protocol;
  private final SplittableRandom random;
  private final long monotonicBase;
  private final Sink sink = new Sink();
  private long wallSkewMillis;
  private Life life = Life.CREATED;
  private Connection connection;
  private int failedAttempts;

  /** The engine's backoff, drawing its jitter from this node's seed. */
  private final Backoff backoff;

  private long tickGeneration;
  private boolean ready;
  private boolean announcing = true;
  private boolean joined;
  private boolean joinScheduled;
  private boolean staysOut;
  private String clusterId;
  private long startedAt = -1;
  private long readyAt = -1;
  private long connectedSince = -1;
  private String excluded;

  SimulatedNode(
      Simulation sim,
      int index,
      Announcement self,
      DiscoverySettings settings,
      Protocol.Factory protocols,
      SplittableRandom random,
      long monotonicBase) {
    this.sim = sim;
    this.index = index;
    this.self = self;
    this.random = random;
    this.backoff =
        new Backoff(
            sim.settings().database().reconnectMinBackoff(),
            sim.settings().database().reconnectMaxBackoff(),
            random);
    this.monotonicBase = monotonicBase;
    this.protocol = protocols.create(settings, self, random.split());
  }

  // ------------------------------------------------------------------------------------------------ identity

  public Announcement self() {
    return self;
  }

  public int index() {
    return index;
  }

  public String name() {
    return "node" + index + "(" + self.endpoint() + ")";
  }

  @Override
  public String toString() {
    return name();
  }

  public Protocol protocol() {
    return protocol;
  }

  /** The node's monotonic clock now, in nanoseconds. */
  public long now() {
    return monotonicBase + sim.loop().now();
  }

  /** The node's wall clock now, epoch milliseconds, skew included. */
  public long wall() {
    return Simulation.WALL0 + sim.loop().now() / 1_000_000 + wallSkewMillis;
  }

  public long wallSkewMillis() {
    return wallSkewMillis;
  }

  public Life life() {
    return life;
  }

  public boolean live() {
    return life == Life.RUNNING;
  }

  public boolean isReady() {
    return ready;
  }

  public boolean announcing() {
    return announcing && live();
  }

  public boolean connected() {
    return connection != null && connection.established;
  }

  /** Virtual time since which the current connection has been listening, or -1. */
  public long connectedSince() {
    return connectedSince;
  }

  public long startedAt() {
    return startedAt;
  }

  /** Virtual time the node last became ready, or -1. */
  public long readyAt() {
    return readyAt;
  }

  /**
   * Virtual time the first statement on the current connection, the node's announcement with its
   * probe, committed; -1 before.
   */
  public long announcedAt() {
    return connection == null ? -1 : connection.announcedAt;
  }

  public boolean stalled() {
    return connection != null && connection.stalled;
  }

  /**
   * Why the properties leave this node out of the expected views (a fault injected on purpose), or
   * null.
   */
  public String excluded() {
    return excluded;
  }

  public SimulatedNode exclude(String why) {
    this.excluded = why;
    return this;
  }

  /** The node's answer to a lookup of its own service now. */
  public Optional<List<Announcement>> lookup() {
    return protocol.lookup(self.service(), now());
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  public void skewClock(long millis) {
    this.wallSkewMillis = millis;
  }

  void start() {
    if (life != Life.CREATED) {
      throw new IllegalStateException(name() + " was started before");
    }
    life = Life.RUNNING;
    startedAt = sim.loop().now();
    connect();
    sim.started(this);
  }

  /** The process dies: no goodbye, its connection closes, and nothing it had in flight arrives. */
  void crash() {
    if (!live()) {
      return;
    }
    life = Life.CRASHED;
    tickGeneration++;
    ready = false;
    if (connection != null) {
      sim.db().disconnect(connection.backend);
      connection = null;
    }
  }

  /** Orderly shutdown, as DiscoveryEngine.shutdown: goodbye if still announcing, then close. */
  void shutdown() {
    if (!live()) {
      return;
    }
    protocol.stopAnnouncing();
    announcing = false;
    Connection c = connection;
    if (c != null && c.established && !c.blocked) {
      send(c, c.loop.tick(now(), wall()));
    }
    life = Life.STOPPED;
    tickGeneration++;
    ready = false;
    connection = null;
    if (c != null) {
      // The close goes out after the last statement on the connection.
      sim.loop().at(c.lastArrival + 1, () -> sim.db().disconnect(c.backend));
    }
  }

  public void stopAnnouncing() {
    announcing = false;
    input(protocol.stopAnnouncing());
  }

  /** Joins the one cluster of its service, as a node whose join the test decides. */
  public void joined() {
    join(clusterId != null ? clusterId : sim.clusterOfService(this));
  }

  /**
   * Joins the cluster {@code id} (its founder's incarnation; this node's own to found one): the
   * cluster's members and this node hear one another Up.
   */
  void join(String id) {
    if (clusterId == null) {
      clusterId = id;
    }
    joined = true;
    input(protocol.joined());
    sim.joinedCluster(this);
  }

  /** The cluster this node joined (its founder's incarnation), or null. */
  public String clusterId() {
    return clusterId;
  }

  /**
   * Whether this node's management HTTP endpoint answers a probe now: not when crashed, stopped or
   * paused.
   */
  boolean answersProbes() {
    return live() && !paused();
  }

  /** The cluster says the member with this address and uid is Up. */
  public void memberUp(String address, long uid) {
    input(protocol.memberUp(address, uid));
  }

  /**
   * This node never joins its cluster: it stays waiting, as a node whose Bootstrap cannot join
   * would.
   */
  public SimulatedNode staysOut() {
    joinScheduled = true;
    staysOut = true;
    return this;
  }

  /** Whether this node was told never to join (see {@link #staysOut}). */
  public boolean staysOutOfItsCluster() {
    return staysOut;
  }

  void removedFromCluster() {
    removed = true;
  }

  /** The cluster removed this node (after a crash, by its downing provider). */
  public boolean hasBeenRemoved() {
    return removed;
  }

  private boolean removed;

  public boolean hasJoined() {
    return joined;
  }

  public void memberRemoved(String address, long uid) {
    if (address.equals(self.address()) && uid == self.uid()) {
      announcing = false;
    }
    input(protocol.memberRemoved(address, uid));
  }

  /**
   * The network between this node and the database silently drops everything from now on, both
   * ways.
   */
  /**
   * The node's process stops for {@code nanos} (a GC pause, a CPU-starved container) and then goes
   * on: what the server delivers meanwhile waits in the socket and arrives all at once, late, in
   * order; its ticks wait too. The connection stays up.
   */
  public void pause(long nanos) {
    pausedUntil = Math.max(pausedUntil, sim.loop().now() + nanos);
  }

  private boolean paused() {
    return sim.loop().now() < pausedUntil;
  }

  /** The server ends this node's session alone; the node notices and reconnects. */
  public void sessionDropped() {
    if (connection != null && connection.backend != null) {
      sim.db().terminate(connection.backend);
    }
  }

  public void stall() {
    if (connection != null) {
      connection.stalled = true;
    }
  }

  /**
   * A request from outside the connection loop: its effects, then a tick soon, as the engine's loop
   * would.
   */
  private void input(List<Effect> effects) {
    if (!live()) {
      return;
    }
    handle(connection, effects);
    if (connected() && !connection.blocked) {
      scheduleTick(connection);
    }
  }

  // ------------------------------------------------------------------------------------------------ the loop

  private void connect() {
    sim.loop().after(sim.connectLatency(random), this::attempt);
  }

  private void attempt() {
    if (!live()) {
      return;
    }
    Connection c = new Connection();
    SimulatedPostgres.Backend backend =
        sim.db().connectTimed(this, notifications -> arrive(c, notifications), () -> terminated(c));
    if (backend == null) {
      failedAttempts++;
      sim.loop().after(backoff(failedAttempts), this::connect);
      return;
    }
    c.backend = backend;
    connection = c;
    for (String channel : protocol.channels()) {
      sim.db().listen(backend, channel);
    }
    c.listenedAt = sim.loop().now();
    // The acknowledgement of the LISTENs reaches the client; then the protocol is told.
    sim.loop().after(sim.deliveryLatency(random), () -> established(c));
  }

  private void established(Connection c) {
    if (connection != c || !live() || c.blocked) {
      return;
    }
    c.established = true;
    c.loop = new ConnectionLoop(protocol, sink, sim.settings(), now());
    failedAttempts = 0;
    connectedSince = c.listenedAt;
    send(c, c.loop.connected(now(), wall()));
    if (connection == c && !c.blocked) {
      scheduleTick(c);
    }
  }

  private void arrive(Connection c, List<SimulatedPostgres.Notification> notifications) {
    if (c.stalled) {
      return;
    }
    long at = Math.max(c.lastDelivery, sim.loop().now() + sim.deliveryLatency(random));
    List<String> payloads = new ArrayList<>(notifications.size());
    for (SimulatedPostgres.Notification n : notifications) {
      sim.delivered(at - n.sentAt());
      payloads.add(n.payload());
    }
    c.lastDelivery = at;
    c.inbox.add(new Arrival(at, payloads));
    sim.inFlight(+1);
    // A paused process reads after the pause, what had arrived before it first.
    sim.loop()
        .at(
            paused() ? Math.max(at, pausedUntil + 1) : at,
            () -> {
              sim.inFlight(-1);
              read(c);
            });
  }

  private void read(Connection c) {
    if (connection != c || !c.established || c.stalled || c.blocked || !live()) {
      return;
    }
    if (paused()) {
      // Arrived before the pause began and not yet read: read after it, in order.
      sim.loop().at(pausedUntil, () -> read(c));
      return;
    }
    if (!readArrived(c) || connection != c || c.blocked) {
      return;
    }
    tick(c);
  }

  /**
   * Reads everything that has reached the client by now, as the engine's one read does; what the
   * protocol answers to it goes out together, in one transaction. False if nothing had arrived.
   */
  private boolean readArrived(Connection c) {
    List<String> payloads = new ArrayList<>();
    while (!c.inbox.isEmpty() && c.inbox.peek().at() - sim.loop().now() <= 0) {
      payloads.addAll(c.inbox.poll().payloads());
    }
    if (payloads.isEmpty()) {
      return false;
    }
    send(c, c.loop.read(payloads, now(), wall()));
    return true;
  }

  private void scheduleTick(Connection c) {
    long now = now();
    long delta = protocol.nextDeadline(now) - now;
    if (!sim.deadlineAtMostOneSecondAhead().check(this, delta, now)) {
      delta = Simulation.SECOND;
    }
    long generation = ++tickGeneration;
    sim.loop()
        .after(
            Math.max(delta, Simulation.MILLISECOND),
            () -> {
              if (generation == tickGeneration) {
                tick(c);
              }
            });
  }

  private void tick(Connection c) {
    if (connection != c || !c.established || c.blocked || !live()) {
      return;
    }
    if (paused()) {
      long generation = ++tickGeneration;
      sim.loop()
          .at(
              pausedUntil,
              () -> {
                if (generation == tickGeneration) {
                  tick(c);
                }
              });
      return;
    }
    // As the engine does: what reached the client (while this thread sent, say) is read before the
    // protocol acts on time, so that no timer decides on a view that misses what is already here.
    if (readArrived(c)) {
      if (connection != c || c.blocked) {
        return;
      }
      if (paused()) {
        tick(c);
        return;
      }
    }
    // The engine's rule: checked once nothing was sent on the connection for the interval (what it
    // heard does not count).
    if (c.loop.checkDue(now())) {
      if (c.stalled) {
        // isValid(connect-timeout, in whole seconds, at least 1) gets no answer.
        c.blocked = true;
        long timeout =
            Math.max(1, sim.settings().database().connectTimeout().toSeconds()) * Simulation.SECOND;
        sim.loop().after(timeout, () -> lost(c));
        return;
      }
      c.loop.sent(now());
      sim.roundTrip();
    }
    List<Effect.Send> sends = c.loop.tick(now(), wall());
    send(c, sends);
    boolean idle = sends.isEmpty();
    spins = idle && protocol.nextDeadline(now()) - now() <= 0 ? spins + 1 : 0;
    if (spins > 0) {
      sim.noBusyLoop().idleTicksInThePast(this, spins, () -> protocol.notReadyReason(now()));
    }
    if (connection == c && !c.blocked) {
      scheduleTick(c);
    }
  }

  private int spins;

  /** Until when (the event loop's clock) the process is paused; see {@link #pause}. */
  private long pausedUntil = Long.MIN_VALUE;

  /** The effects carried out by the engine's interpreter, the messages sent in one transaction. */
  private void handle(Connection c, List<Effect> effects) {
    send(c, Effects.carryOut(effects, sink));
  }

  /** What the node does with effects other than sends. */
  private final class Sink implements Effects.Sink {
    @Override
    public void readinessChanged(boolean ready) {
      readiness(ready);
    }

    @Override
    public void peerAdded(Announcement peer) {}

    @Override
    public void peerRemoved(Announcement peer, String why) {}

    @Override
    public void notice(Effect.Notice notice) {
      sim.noticed(SimulatedNode.this, notice);
    }
  }

  /**
   * One statement, one commit: its notifications enter the queue together, and a listener hears all
   * or none.
   */
  private void send(Connection c, List<Effect.Send> sends) {
    if (sends.isEmpty()) {
      return;
    }
    sends.forEach(send -> sim.sent(this, send));
    if (c == null || connection != c || c.blocked) {
      return;
    }
    if (c.stalled) {
      // The statement is written and its answer never comes: the node's thread waits until TCP
      // gives up.
      c.blocked = true;
      sim.loop().after(sim.tcpTimeout(), () -> lost(c));
      return;
    }
    long sentAt = sim.loop().now();
    if (c.loop != null) {
      c.loop.sent(now());
    }
    long at = Math.max(c.lastArrival + 1, sentAt + sim.commitLatency(random));
    c.lastArrival = at;
    sim.inFlight(+1);
    SimulatedPostgres.Backend backend = c.backend;
    if (!sim.commitsQueue()) {
      sim.loop().at(at, () -> commit(c, backend, sends, sentAt));
      return;
    }
    // The node's one thread waits for the statement's answer: until the statement reaches the
    // server, then until its commit is over and the answer is back, or connect-timeout has passed
    // (pgjdbc's network timeout); then the engine drops the connection.
    pause(at - sentAt);
    sim.loop()
        .at(
            at,
            () -> {
              long committedAt = sim.db().commitAt();
              sim.loop().at(committedAt, () -> commit(c, backend, sends, sentAt));
              long answeredAt = committedAt + sim.deliveryLatency(random);
              long timeout = sim.settings().database().connectTimeout().toNanos();
              if (answeredAt - sentAt <= timeout) {
                pause(answeredAt - sim.loop().now());
              } else {
                pause(sentAt + timeout - sim.loop().now());
                sim.loop().at(sentAt + timeout, () -> lost(c));
              }
            });
  }

  private void commit(
      Connection c, SimulatedPostgres.Backend backend, List<Effect.Send> sends, long sentAt) {
    sim.inFlight(-1);
    if (c.announcedAt < 0 && backend.alive() && sim.db().isUp()) {
      c.announcedAt = sim.loop().now();
    }
    for (Effect.Send send : sends) {
      sim.db().notify(backend, send.channel(), send.payload(), sentAt);
    }
  }

  private void readiness(boolean nowReady) {
    ready = nowReady;
    if (nowReady) {
      readyAt = sim.loop().now();
      sim.becameReady(this);
      if (!joinScheduled && sim.joinAfterReady() >= 0) {
        joinScheduled = true;
        sim.loop()
            .after(
                sim.joinAfterReady(),
                () -> {
                  if (live()) {
                    joined();
                  }
                });
      }
    }
  }

  /** The server ended the connection; the client hears of it unless the connection is stalled. */
  private void terminated(Connection c) {
    if (c.stalled) {
      return;
    }
    sim.loop().after(sim.deliveryLatency(random), () -> lost(c));
  }

  private void lost(Connection c) {
    if (connection != c || !live()) {
      return;
    }
    connection = null;
    connectedSince = -1;
    tickGeneration++;
    sim.db().disconnect(c.backend);
    handle(null, protocol.disconnected(now()));
    failedAttempts++;
    sim.loop().after(backoff(failedAttempts), this::connect);
  }

  private long backoff(int attempt) {
    return backoff.delayNanos(attempt);
  }
}
