package io.github.pgdiscovery.simulation;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Effect;
import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.protocol.MessageCodec;
import io.github.pgdiscovery.core.protocol.Protocol;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.simulation.invariants.CrashedPeerLeavesWithinExpiry;
import io.github.pgdiscovery.simulation.invariants.DeadlineAtMostOneSecondAhead;
import io.github.pgdiscovery.simulation.invariants.ExactlyOneCluster;
import io.github.pgdiscovery.simulation.invariants.Invariant;
import io.github.pgdiscovery.simulation.invariants.NoBusyLoop;
import io.github.pgdiscovery.simulation.invariants.OneViewAtQuiescence;
import io.github.pgdiscovery.simulation.invariants.ReadyOnlyOnCompleteView;
import io.github.pgdiscovery.simulation.invariants.StalledPeerLeavesWithinExpiry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * N nodes running {@link DiscoveryProtocol} against one {@link SimulatedPostgres}, single-threaded
 * in virtual time, everything drawn from one seed: the same seed replays the same run. It injects
 * faults (crash, database restart, stalled connection, clock skew, two nodes on one endpoint,
 * forged and replayed payloads), checks properties, and counts what the database pays
 * (notifications, backend wake-ups).
 *
 * <p>The properties are the classes of the {@code invariants} package, one rule each. Checked all
 * along, recorded in {@link #violations()} under the rule's name: {@link ReadyOnlyOnCompleteView},
 * {@link CrashedPeerLeavesWithinExpiry}, {@link StalledPeerLeavesWithinExpiry}, {@link
 * DeadlineAtMostOneSecondAhead}, {@link NoBusyLoop}. Checked on request, at quiescence: {@link
 * OneViewAtQuiescence}, by {@link #convergenceViolations()}.
 *
 * <p>Generic over the protocol's messages: the simulator moves payloads, reads only the {@link
 * Effect}s, and uses {@link Effect.Send#message()} only to count sends by type.
 */
public final class Simulation {

  public static final long MILLISECOND = 1_000_000L;
  public static final long SECOND = 1000 * MILLISECOND;

  /** Wall clock at virtual time 0, for every node with no skew: 2025-11-22T00:00:00Z. */
  public static final long WALL0 = 1_763_769_600_000L;

  /** How a simulation is set up; every value has a default. */
  public static final class Config {
    long seed;
    SimulatedPostgres.Wakeups wakeups = SimulatedPostgres.Wakeups.EVERY_LISTENER;
    UnaryOperator<DiscoverySettings.Builder> settings = b -> b;
    Protocol.Factory protocol = DiscoveryProtocol::new;

    /**
     * A NOTIFY statement from its client to the server, the server's signal to the backend's read,
     * the read to the client; and how long a commit holds the lock that orders NOTIFY commits
     * (null: no time, no queue).
     */
    Latency commit = Latency.micros(300, 1500);

    Latency wake = Latency.micros(50, 500);
    Latency delivery = Latency.micros(300, 1500);
    Latency commitHold;
    long connectMin = 2 * MILLISECOND;
    long connectMax = 5 * MILLISECOND;
    long tcpTimeout = Duration.ofSeconds(924).toNanos(); // Linux tcp_retries2 = 15
    long joinAfterReady = -1;

    /** A downing provider removes a crashed member this long after the crash; negative for none. */
    long downAfter = 10 * SECOND;

    boolean negativeClocks = true;

    /** The longest a cluster event takes to reach a node; 0: a millisecond, the same everywhere. */
    long membershipLag;

    BootstrapModel.Settings bootstrap;

    public Config(long seed) {
      this.seed = seed;
    }

    public Config wakeups(SimulatedPostgres.Wakeups value) {
      wakeups = value;
      return this;
    }

    public Config settings(UnaryOperator<DiscoverySettings.Builder> value) {
      settings = value;
      return this;
    }

    /**
     * The protocol the nodes run: the library's by default; the benchmarks compare it with one of
     * their own.
     */
    public Config protocol(Protocol.Factory value) {
      protocol = value;
      return this;
    }

    /**
     * Joins its cluster (the joined heartbeat interval applies) this long after first becoming
     * ready.
     */
    public Config joinAfterReady(Duration value) {
      joinAfterReady = value.toNanos();
      return this;
    }

    /**
     * Every node joins as Cluster Bootstrap decides ({@link BootstrapModel}), looking up its
     * service through its own discovery, instead of a fixed time after it became ready.
     */
    public Config clusterBootstrap(BootstrapModel.Settings value) {
      bootstrap = value;
      return this;
    }

    public Config tcpTimeout(Duration value) {
      tcpTimeout = value.toNanos();
      return this;
    }

    /**
     * The cluster's downing provider removes a crashed member this long after it crashed (10 s by
     * default).
     */
    public Config downAfter(Duration value) {
      downAfter = value.toNanos();
      return this;
    }

    /** No downing provider: a crashed member stays in its cluster for good. */
    public Config noDowning() {
      downAfter = -1;
      return this;
    }

    /**
     * Monotonic clocks start anywhere in the long range (true, the default), or at positive
     * readings only.
     */
    /**
     * Cluster events (MemberUp, MemberRemoved) reach each node after its own random delay, up to
     * {@code max}: gossip converges at different moments on different nodes.
     */
    public Config membershipLag(Duration max) {
      this.membershipLag = max.toNanos();
      return this;
    }

    public Config negativeClocks(boolean value) {
      negativeClocks = value;
      return this;
    }

    /** The ranges of the three legs of a notification's way, in microseconds. */
    public Config latencyMicros(
        long commitMin,
        long commitMax,
        long wakeMin,
        long wakeMax,
        long deliveryMin,
        long deliveryMax) {
      this.commit = Latency.micros(commitMin, commitMax);
      this.wake = Latency.micros(wakeMin, wakeMax);
      this.delivery = Latency.micros(deliveryMin, deliveryMax);
      return this;
    }

    /**
     * Latencies as a loaded production server has them, instead of the uniform sub-millisecond
     * defaults: mostly well under a millisecond a leg, sometimes tens to hundreds of milliseconds,
     * and commits that queue. A commit holds the lock that orders NOTIFY commits through its WAL
     * flush: usually a fraction of a millisecond, 1% of them 5 to 50 ms (a busy disk), 0.2% 0.5 to
     * 2 s (a stalled fsync), and every commit behind it, of any node, waits. The network loses a
     * segment now and then, and TCP sends it again after its retransmission timeout (200 ms at
     * least on Linux): 0.3% of statements and of deliveries. A woken backend waits for a CPU 10 to
     * 100 ms, 1% of the time. A node's thread waits for its statement's answer, as the engine's
     * does, and gives the connection up after connect-timeout.
     */
    public Config tailedLatencies() {
      Duration rto = Duration.ofMillis(200);
      commit =
          Latency.micros(100, 1000)
              .tail(0.02, Duration.ofMillis(1), Duration.ofMillis(20))
              .tail(0.003, rto, rto.multipliedBy(2));
      commitHold =
          Latency.micros(50, 500)
              .tail(0.01, Duration.ofMillis(5), Duration.ofMillis(50))
              .tail(0.002, Duration.ofMillis(500), Duration.ofSeconds(2));
      wake = Latency.micros(50, 500).tail(0.01, Duration.ofMillis(10), Duration.ofMillis(100));
      delivery =
          Latency.micros(100, 1000)
              .tail(0.02, Duration.ofMillis(1), Duration.ofMillis(20))
              .tail(0.003, rto, rto.multipliedBy(2));
      return this;
    }
  }

  /**
   * What the database and the nodes did, as counters; {@link #minus} gives what happened in
   * between.
   */
  public record Counts(
      long notifications,
      long wakeUps,
      long delivered,
      long listens,
      long connections,
      long sent,
      long roundTrips,
      Map<String, Long> sentByType) {

    public Counts minus(Counts before) {
      Map<String, Long> types = new TreeMap<>(sentByType);
      before.sentByType.forEach((type, n) -> types.merge(type, -n, Long::sum));
      return new Counts(
          notifications - before.notifications,
          wakeUps - before.wakeUps,
          delivered - before.delivered,
          listens - before.listens,
          connections - before.connections,
          sent - before.sent,
          roundTrips - before.roundTrips,
          types);
    }

    @Override
    public String toString() {
      return "notifications="
          + notifications
          + " wakeUps="
          + wakeUps
          + " delivered="
          + delivered
          + " listens="
          + listens
          + " connections="
          + connections
          + " sent="
          + sentByType;
    }
  }

  private final Config config;
  private final DiscoverySettings settings;
  private final EventLoop loop = new EventLoop();
  private final SplittableRandom random;

  /** Only for cluster events' delays, so that other draws stay as they were without them. */
  private final SplittableRandom membershipRandom;

  /** When each node's latest cluster event is due: the next one comes after it. */
  private final Map<SimulatedNode, Long> lastClusterEvent = new HashMap<>();

  private final SimulatedPostgres db;
  private final List<SimulatedNode> nodes = new ArrayList<>();
  private final List<PassiveMember> passives = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();
  private final Map<String, Long> sentByType = new TreeMap<>();
  private final Map<Effect.Level, Long> notices = new LinkedHashMap<>();
  private final List<String> errors = new ArrayList<>();
  private final ReadyOnlyOnCompleteView readyOnlyOnCompleteView;
  private final CrashedPeerLeavesWithinExpiry crashedPeerLeavesWithinExpiry;
  private final StalledPeerLeavesWithinExpiry stalledPeerLeavesWithinExpiry;
  private final DeadlineAtMostOneSecondAhead deadlineAtMostOneSecondAhead;
  private final NoBusyLoop noBusyLoop;
  private final OneViewAtQuiescence oneViewAtQuiescence = new OneViewAtQuiescence();
  private final ExactlyOneCluster exactlyOneCluster;
  private final BootstrapModel bootstrap;

  /** The cluster of each service that nodes join when a test, not Bootstrap, decides: its id. */
  private final Map<String, String> serviceClusters = new HashMap<>();

  private SimulatedPostgres.Backend attacker;
  private long sent;
  private long roundTrips;
  private long lateDeliveries;
  private long longestDelivery;
  private long inFlight;
  private int pendingStarts;

  public Simulation(Config config) {
    this.config = config;
    this.random = new SplittableRandom(config.seed);
    this.membershipRandom = new SplittableRandom(~config.seed);
    this.settings =
        config
            .settings
            .apply(
                DiscoverySettings.builder("jdbc:postgresql://simulated/db")
                    .channel("sim_discovery"))
            .build();
    this.db =
        new SimulatedPostgres(loop, random.split(), config.wakeups, config.wake, config.commitHold);
    // A passive member reads nothing; wake-ups are counted for it all the same.
    db.readers(client -> !(client instanceof PassiveMember));
    this.readyOnlyOnCompleteView = new ReadyOnlyOnCompleteView(this::violation);
    this.crashedPeerLeavesWithinExpiry =
        new CrashedPeerLeavesWithinExpiry(
            this::violation, this, config.downAfter, config.membershipLag);
    this.stalledPeerLeavesWithinExpiry = new StalledPeerLeavesWithinExpiry(this::violation, this);
    this.deadlineAtMostOneSecondAhead = new DeadlineAtMostOneSecondAhead(this::violation);
    this.noBusyLoop = new NoBusyLoop(this::violation);
    this.exactlyOneCluster = new ExactlyOneCluster(this::violation);
    if (config.bootstrap != null && config.joinAfterReady >= 0) {
      throw new IllegalArgumentException(
          "joinAfterReady and clusterBootstrap both decide when a node joins: choose one");
    }
    this.bootstrap =
        config.bootstrap == null ? null : new BootstrapModel(this, config.bootstrap, config.seed);
  }

  public static Simulation of(long seed) {
    return new Simulation(new Config(seed));
  }

  public long seed() {
    return config.seed;
  }

  public EventLoop loop() {
    return loop;
  }

  public SimulatedPostgres db() {
    return db;
  }

  public DiscoverySettings settings() {
    return settings;
  }

  public List<SimulatedNode> nodes() {
    return nodes;
  }

  // ------------------------------------------------------------------------------------------------ nodes

  /** A node of {@code service} on its own host, port 8558, not started. */
  public SimulatedNode create(String service) {
    int i = nodes.size();
    String host = "10." + (i / 62_500) + "." + (i / 250 % 250) + "." + (i % 250 + 1);
    return create(service, host, 8558);
  }

  /** A node announcing {@code host:port}, not started. */
  public SimulatedNode create(String service, String host, int port) {
    int i = nodes.size();
    SplittableRandom nodeRandom = random.split();
    Announcement self =
        new Announcement(
            service,
            host,
            port,
            "akka://" + service + "@" + host + ":" + (25520 + i),
            nodeRandom.nextLong(),
            new UUID(nodeRandom.nextLong(), nodeRandom.nextLong()).toString());
    long base = config.negativeClocks ? nodeRandom.nextLong() >> 1 : nodeRandom.nextLong(1L << 62);
    SimulatedNode node =
        new SimulatedNode(this, i, self, settings, config.protocol, nodeRandom, base);
    nodes.add(node);
    return node;
  }

  /**
   * The node restarted on the same host and ports, as docker compose and StatefulSets restart it:
   * the same contact point and remoting address, a new incarnation and cluster uid. Not started.
   */
  public SimulatedNode createSuccessor(SimulatedNode predecessor) {
    int i = nodes.size();
    SplittableRandom nodeRandom = random.split();
    Announcement old = predecessor.self();
    Announcement self =
        new Announcement(
            old.service(),
            old.host(),
            old.port(),
            old.address(),
            nodeRandom.nextLong(),
            new UUID(nodeRandom.nextLong(), nodeRandom.nextLong()).toString());
    long base = config.negativeClocks ? nodeRandom.nextLong() >> 1 : nodeRandom.nextLong(1L << 62);
    SimulatedNode node =
        new SimulatedNode(this, i, self, settings, config.protocol, nodeRandom, base);
    nodes.add(node);
    return node;
  }

  /** Creates and starts a node now. */
  public SimulatedNode start(String service) {
    SimulatedNode node = create(service);
    node.start();
    return node;
  }

  public void start(SimulatedNode node) {
    node.start();
  }

  /** Starts {@code n} nodes of {@code service} within {@code window}, at random instants. */
  public List<SimulatedNode> startMany(String service, int n, Duration window) {
    List<SimulatedNode> started = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      SimulatedNode node = create(service);
      started.add(node);
      pendingStarts++;
      loop.after(
          window.isZero() ? 0 : random.nextLong(window.toNanos()),
          () -> {
            pendingStarts--;
            node.start();
          });
    }
    return started;
  }

  public List<SimulatedNode> live() {
    return nodes.stream().filter(SimulatedNode::live).toList();
  }

  /**
   * A member of the cluster reduced to what it costs the database while others join: a backend
   * listening on the channel, so that every commit wakes it, that announced once that its cluster
   * watches it, is Up for every joined node, and reads nothing. It stands in for a real member
   * where N real ones do not fit in memory (each holds every other: N² table entries, about 70 GB
   * at N = 10,000). It changes no count of a join as long as the real members include the
   * responders: a member that does not answer the probe sends nothing when a node joins, it only
   * adds the newcomer ({@code SimulationTest} checks the counts against real members at N = 200).
   */
  public static final class PassiveMember {
    private final Announcement self;

    private PassiveMember(Announcement self) {
      this.self = self;
    }

    public Announcement self() {
      return self;
    }
  }

  /**
   * Adds {@code n} passive members of {@code service}, on hosts 10.9.x.y, after every real node's
   * host (10.0.x.y) in the responders' order; each connects, listens and announces now, and the
   * joined nodes hear it Up once that announcement has reached them.
   */
  public List<PassiveMember> addPassiveMembers(String service, int n) {
    if (passives.size() + n > 62_500) {
      throw new IllegalArgumentException("at most 62,500 passive members");
    }
    MessageCodec codec = new MessageCodec(settings.security().sharedSecret());
    List<PassiveMember> added = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      int i = passives.size();
      SplittableRandom memberRandom = random.split();
      String host = "10.9." + (i / 250) + "." + (i % 250 + 1);
      PassiveMember member =
          new PassiveMember(
              new Announcement(
                  service,
                  host,
                  8558,
                  "akka://" + service + "@" + host + ":25520",
                  memberRandom.nextLong(),
                  new UUID(memberRandom.nextLong(), memberRandom.nextLong()).toString()));
      SimulatedPostgres.Backend backend = db.connect(member, payloads -> {}, () -> {});
      db.listen(backend, settings.channel());
      db.notify(
          backend,
          settings.channel(),
          codec.encode(
              Message.Announce.watched(member.self()), 1, WALL0 + loop.now() / MILLISECOND));
      passives.add(member);
      added.add(member);
    }
    loop.after(
        maxDelivery() + MILLISECOND,
        () -> {
          for (SimulatedNode node : nodes) {
            if (node.live()
                && node.hasJoined()
                && !node.hasBeenRemoved()
                && node.self().service().equals(service)) {
              added.forEach(member -> node.memberUp(member.self().address(), member.self().uid()));
            }
          }
        });
    return added;
  }

  // ------------------------------------------------------------------------------------------------ faults

  /**
   * The node's process dies without a goodbye. A node that had not joined must leave everybody's
   * view within its expiry. A member is removed by the cluster's downing provider, if there is one,
   * after {@link Config#downAfter}: every member is told, and it must leave every view within a
   * watched peer's stay after that.
   */
  public void crash(SimulatedNode node) {
    if (node.hasJoined() && config.downAfter >= 0) {
      loop.after(config.downAfter, () -> removeFromCluster(node));
    }
    node.crash();
    crashedPeerLeavesWithinExpiry.crashed(node);
  }

  /**
   * The node's connection silently stalls (nothing gets through, either way). While the node is
   * still on it, it must leave the others' views within its expiry, as a crashed node does.
   */
  public void stall(SimulatedNode node) {
    node.stall();
    stalledPeerLeavesWithinExpiry.stalled(node);
  }

  /**
   * What {@code hops} notifications one after another may add to how long a view keeps an entry:
   * each up to {@link #maxDelivery()}; with tailed latencies, besides, twice the longest any
   * notification took so far: a stalled commit holds back every notification behind it, so the hops
   * of one chain of rosters mostly wait out the same stall.
   */
  public long transitAllowance(int hops) {
    long allowance = hops * maxDelivery();
    return config.commitHold == null ? allowance : allowance + 2 * longestDelivery;
  }

  /**
   * Runs {@code check} once {@code bound} has passed since {@code from}; the bound is read again
   * when it is due, as it may have grown (a slow notification seen meanwhile).
   */
  public void checkAfter(long from, LongSupplier bound, Runnable check) {
    loop.at(
        from + bound.getAsLong(),
        () -> {
          if (loop.now() < from + bound.getAsLong()) {
            checkAfter(from, bound, check);
          } else {
            check.run();
          }
        });
  }

  /**
   * Orderly shutdown; a member leaves its cluster on the way out, and the cluster removes it a
   * second later.
   */
  public void shutdown(SimulatedNode node) {
    boolean member = node.hasJoined() && node.live();
    node.shutdown();
    if (member) {
      loop.after(SECOND, () -> removeFromCluster(node));
    }
  }

  /**
   * PostgreSQL restarts: every connection dropped, the queue emptied, down for {@code downtime}.
   */
  public void restartDatabase(Duration downtime) {
    db.restart(downtime.toNanos());
  }

  /**
   * A payload from a client that does not listen, e.g. a forger with database access, committed
   * now; counted as a notification like any other.
   */
  public void inject(String channel, String payload) {
    if (attacker == null || !attacker.alive()) {
      attacker = db.connect("attacker", payloads -> {}, () -> {});
    }
    if (attacker != null) {
      db.notify(attacker, channel, payload);
    }
  }

  /** Every notification committed from now on, for replaying it later. */
  public List<SimulatedPostgres.Notification> record() {
    List<SimulatedPostgres.Notification> recorded = new ArrayList<>();
    db.tap(recorded::add);
    return recorded;
  }

  // ------------------------------------------------------------------------------------------------ running

  public void run(Duration duration) {
    loop.runUntil(loop.now() + duration.toNanos());
  }

  /** Runs in steps of 50 ms until {@code condition} holds, at most {@code max}; true if it held. */
  public boolean runUntil(BooleanSupplier condition, Duration max) {
    long end = loop.now() + max.toNanos();
    while (!condition.getAsBoolean()) {
      if (loop.now() >= end) {
        return false;
      }
      loop.runUntil(Math.min(end, loop.now() + 50 * MILLISECOND));
    }
    return true;
  }

  /** Nothing in flight between nodes and database, and every live node not excluded is ready. */
  public boolean quiet() {
    return pendingStarts == 0
        && inFlight == 0
        && db.pendingReads() == 0
        && nodes.stream().allMatch(n -> !n.live() || n.excluded() != null || n.isReady());
  }

  /** Runs until quiet and the views agree, at most {@code max}; true if they do. */
  public boolean runUntilConverged(Duration max) {
    return runUntil(() -> quiet() && convergenceViolations().isEmpty(), max);
  }

  // ------------------------------------------------------------------------------------------------ properties

  /**
   * After quiescence, {@link OneViewAtQuiescence}: what is wrong with the views now, each line with
   * the seed; empty when every live node lists exactly the live announcing nodes of its service.
   */
  public List<String> convergenceViolations() {
    return oneViewAtQuiescence.check(nodes).stream()
        .map(what -> stamp(oneViewAtQuiescence, what))
        .toList();
  }

  /**
   * {@link ExactlyOneCluster} now: a line per service whose live members are in more than one
   * cluster, with the seed; empty when each service has one cluster at most.
   */
  public List<String> clusterViolations() {
    return exactlyOneCluster.check(nodes).stream()
        .map(what -> stamp(exactlyOneCluster, what))
        .toList();
  }

  /** Everything found wrong along the way, each line with the seed. */
  public List<String> violations() {
    return violations;
  }

  /** The seed, the virtual time, and what went wrong. */
  public String describe(List<String> problems) {
    return "seed "
        + config.seed
        + ": "
        + problems.size()
        + " problem(s)"
        + (problems.isEmpty() ? "" : ", first: " + problems.get(0))
        + (problems.size() > 1 ? " ... last: " + problems.get(problems.size() - 1) : "");
  }

  /** ERROR notices the nodes logged, with the node's name. */
  public List<String> errors() {
    return errors;
  }

  public Counts counts() {
    SimulatedPostgres.Counters c = db.counters();
    return new Counts(
        c.notifications,
        c.wakeUps,
        c.delivered,
        c.listens,
        c.connections,
        sent,
        roundTrips,
        new TreeMap<>(sentByType));
  }

  // ------------------------------------------------------------------------------------------------ for nodes

  void becameReady(SimulatedNode node) {
    readyOnlyOnCompleteView.becameReady(node, nodes);
  }

  void started(SimulatedNode node) {
    if (bootstrap != null && !node.staysOutOfItsCluster()) {
      bootstrap.start(node);
    }
  }

  /**
   * The one cluster of {@code node}'s service, for a join a test decides: the first node of the
   * service to join founds it.
   */
  String clusterOfService(SimulatedNode node) {
    return serviceClusters.computeIfAbsent(node.self().service(), s -> node.self().incarnation());
  }

  /**
   * The cluster {@code node} joined (its members) sees it Up: each member hears of it, and it hears
   * of each member, as cluster events, a moment later.
   */
  void joinedCluster(SimulatedNode node) {
    exactlyOneCluster.joined(node, nodes);
    for (SimulatedNode member : nodes) {
      // A crashed member the cluster has not removed is still a member (unreachable): a joining
      // node hears it Up.
      if (member != node
          && member.hasJoined()
          && !member.hasBeenRemoved()
          && member.life() != SimulatedNode.Life.STOPPED
          && node.clusterId().equals(member.clusterId())) {
        if (config.membershipLag > 0) {
          clusterEvent(member, () -> member.memberUp(node.self().address(), node.self().uid()));
          clusterEvent(node, () -> node.memberUp(member.self().address(), member.self().uid()));
        } else {
          loop.after(
              MILLISECOND,
              () -> {
                member.memberUp(node.self().address(), node.self().uid());
                node.memberUp(member.self().address(), member.self().uid());
              });
        }
      }
    }
    if (!passives.isEmpty()) {
      loop.after(
          MILLISECOND,
          () ->
              passives.stream()
                  .filter(member -> member.self().service().equals(node.self().service()))
                  .forEach(member -> node.memberUp(member.self().address(), member.self().uid())));
    }
  }

  /** The cluster removes {@code node}: every member of its cluster is told (MemberRemoved). */
  private void removeFromCluster(SimulatedNode node) {
    node.removedFromCluster();
    for (SimulatedNode member : live()) {
      if (member.hasJoined() && node.clusterId().equals(member.clusterId())) {
        if (config.membershipLag > 0) {
          clusterEvent(
              member,
              () -> {
                if (member.live()) {
                  member.memberRemoved(node.self().address(), node.self().uid());
                }
              });
        } else {
          member.memberRemoved(node.self().address(), node.self().uid());
        }
      }
    }
  }

  /**
   * Delivers a cluster event to {@code node} after its own random lag, but after the events before
   * it: a subscriber sees its cluster's events in order (Up before Removed), however late.
   */
  private void clusterEvent(SimulatedNode node, Runnable event) {
    long at =
        Math.max(
            loop.now() + MILLISECOND + membershipRandom.nextLong(config.membershipLag),
            lastClusterEvent.getOrDefault(node, Long.MIN_VALUE) + 1);
    lastClusterEvent.put(node, at);
    loop.at(at, event);
  }

  void noticed(SimulatedNode node, Effect.Notice notice) {
    notices.merge(notice.level(), 1L, Long::sum);
    if (notice.level() == Effect.Level.ERROR && errors.size() < 1000) {
      errors.add(node.name() + ": " + notice.text());
    }
  }

  void sent(SimulatedNode node, Effect.Send send) {
    sent++;
    sentByType.merge(send.message().getClass().getSimpleName(), 1L, Long::sum);
  }

  private void violation(Invariant broken, String what) {
    if (violations.size() < 1000) {
      violations.add(stamp(broken, what));
    }
  }

  DeadlineAtMostOneSecondAhead deadlineAtMostOneSecondAhead() {
    return deadlineAtMostOneSecondAhead;
  }

  NoBusyLoop noBusyLoop() {
    return noBusyLoop;
  }

  void roundTrip() {
    roundTrips++;
  }

  void inFlight(int delta) {
    inFlight += delta;
  }

  long joinAfterReady() {
    return config.joinAfterReady;
  }

  long tcpTimeout() {
    return config.tcpTimeout;
  }

  long commitLatency(SplittableRandom r) {
    return config.commit.draw(r);
  }

  long deliveryLatency(SplittableRandom r) {
    return config.delivery.draw(r);
  }

  /** Whether commits queue behind the lock that orders them, and a node waits for its own. */
  boolean commitsQueue() {
    return config.commitHold != null;
  }

  /**
   * A notification reached a node's protocol {@code transit} after its sender sent it (the node's
   * own pauses and waits left out: this is what the database and the network took).
   */
  void delivered(long transit) {
    longestDelivery = Math.max(longestDelivery, transit);
    if (transit > settings.timing().probeReplyWindow().toNanos()) {
      lateDeliveries++;
    }
  }

  /**
   * Notifications that reached a node later than the probe reply window after they were sent: a
   * late answer, a late announcement. The uniform default latencies never make one.
   */
  public long lateDeliveries() {
    return lateDeliveries;
  }

  /** The longest a notification took so far from its sender to a node's protocol, nanoseconds. */
  public long longestDelivery() {
    return longestDelivery;
  }

  long connectLatency(SplittableRandom r) {
    return between(r, config.connectMin, config.connectMax);
  }

  /**
   * The longest a notification takes from a sender to a listener's protocol, unless a tail was
   * drawn or commits queued: the bodies of its legs.
   */
  long maxDelivery() {
    return config.commit.bodyMax()
        + (config.commitHold == null ? 0 : config.commitHold.bodyMax())
        + config.wake.bodyMax()
        + config.delivery.bodyMax();
  }

  private static long between(SplittableRandom r, long min, long max) {
    return max <= min ? min : r.nextLong(min, max);
  }

  /** The seed, the virtual time, the rule broken, and how. */
  private String stamp(Invariant broken, String what) {
    return "seed "
        + config.seed
        + " at "
        + Invariant.millis(loop.now())
        + " ms: "
        + broken.name()
        + ": "
        + what;
  }
}
