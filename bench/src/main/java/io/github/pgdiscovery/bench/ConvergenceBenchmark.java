package io.github.pgdiscovery.bench;

import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.EngineObserver;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Protocol;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Engine only, no Akka: N participants in this JVM, each with its own connection, against one
 * PostgreSQL. N - 1 residents are started and settle; then joiners come one at a time, and for each
 * we measure, from its first announcement, how long until every resident's table holds it, and
 * until its own table holds every resident. Run in the protocol's mode (probe and reply) and in a
 * heartbeat-only mode that behaves like libcluster_postgres.
 */
final class ConvergenceBenchmark {

  private static final Logger log = LoggerFactory.getLogger(ConvergenceBenchmark.class);
  private static final String SERVICE = "bench";
  private static final int START_BATCH = 25;

  /** The measurements of one joiner, in milliseconds from its first announcement. */
  record Join(double othersSeeIt, double itSeesOthers, long notifications) {
    double full() {
      return Math.max(othersSeeIt, itSeesOthers);
    }
  }

  /**
   * N participants started at once: until every one is ready and lists all N ({@code seconds});
   * {@code joined}, when the last of them had joined the modelled cluster ({@code NaN} if not all
   * did).
   */
  record ColdStart(
      int participants,
      double seconds,
      double joinedSeconds,
      double startSeconds,
      long notifications,
      int complete,
      int members,
      String failure) {}

  /**
   * How often the modelled cluster admits the participants that can join: about Akka's gossip
   * interval.
   */
  private static final Duration CLUSTER_ROUND = Duration.ofMillis(200);

  /** Results of one (N, mode) cell. */
  record Cell(
      int participants,
      String mode,
      List<Join> joins,
      double residentsStartSeconds,
      String failure) {}

  private final BenchDatabase db;
  private final Duration heartbeat;

  ConvergenceBenchmark(BenchDatabase db, Duration heartbeat) {
    this.db = db;
    this.heartbeat = heartbeat;
  }

  /**
   * Each size with this library's protocol, and with heartbeats only if {@code heartbeatJoiners} is
   * above 0.
   */
  String run(int[] sizes, int probeJoiners, int heartbeatJoiners) throws Exception {
    List<Cell> cells = new ArrayList<>();
    for (int n : sizes) {
      cells.add(
          measureOrReport(
              n, "probe + reply (this library)", probeJoiners, DiscoveryProtocol::new, true));
      if (heartbeatJoiners > 0) {
        cells.add(
            measureOrReport(
                n,
                "heartbeat only (libcluster_postgres)",
                heartbeatJoiners,
                HeartbeatOnlyProtocol::new,
                false));
      }
    }
    return markdown(cells);
  }

  /**
   * A cell that could not be measured on this machine is reported as such, so the other results are
   * kept.
   */
  private Cell measureOrReport(
      int n, String mode, int joiners, Protocol.Factory protocols, boolean residentsJoin)
      throws InterruptedException {
    try {
      return measure(n, mode, joiners, protocols, residentsJoin);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      log.warn("N={} {}: not measured", n, mode, e);
      return new Cell(n, mode, List.of(), Double.NaN, e.getMessage());
    }
  }

  /**
   * @param residentsJoin true: residents are members of a formed cluster and announce at the joined
   *     interval, as this library's nodes do once Up; false: everybody announces at the heartbeat
   *     throughout, as libcluster_postgres does
   */
  Cell measure(int n, String mode, int joiners, Protocol.Factory protocols, boolean residentsJoin)
      throws Exception {
    String channel =
        "bench_conv_"
            + n
            + "_"
            + (mode.startsWith("probe") ? "probe" : "hb")
            + "_"
            + Long.toHexString(System.nanoTime());
    DiscoverySettings settings =
        DiscoverySettings.builder(db.url())
            .user(db.user())
            .password(db.password())
            .channel(channel)
            .timings(heartbeat, heartbeat.multipliedBy(3))
            // Hundreds of connections opening at once on a small machine: allow them time.
            .connectTimeout(Duration.ofSeconds(15))
            .connectionCheckInterval(Duration.ofSeconds(5))
            .build();
    Map<String, Watch> watched = new ConcurrentHashMap<>();
    EngineObserver resident =
        new EngineObserver() {
          @Override
          public void peerAdded(Announcement peer, long nanoTime) {
            Watch watch = watched.get(peer.incarnation());
            if (watch != null) {
              watch.seenBy(nanoTime);
            }
          }
        };
    List<DiscoveryEngine> residents = new CopyOnWriteArrayList<>();
    int members = 0;
    long startedResidents = System.nanoTime();
    try (ChannelMonitor monitor = new ChannelMonitor(db, channel, () -> residents)) {
      for (int i = 0; i < n - 1; i++) {
        DiscoveryEngine engine =
            new DiscoveryEngine(
                protocols.create(settings, announcement(i), new SplittableRandom()), resident);
        residents.add(engine);
        engine.start();
        if ((i + 1) % START_BATCH == 0) {
          awaitReady(residents, Duration.ofSeconds(180));
          if (residentsJoin) {
            formCluster(residents, members);
            members = residents.size();
          }
        }
      }
      awaitReady(residents, Duration.ofSeconds(180));
      if (residentsJoin) {
        formCluster(residents, members);
      }
      double residentsStart = (System.nanoTime() - startedResidents) / 1e9;
      log.info(
          "{} residents ready in {} s ({})", n - 1, String.format("%.1f", residentsStart), mode);
      Thread.sleep(1000); // Let the start-up traffic drain before the first measured join.

      List<Join> joins = new ArrayList<>();
      for (int j = 0; j < joiners; j++) {
        joins.add(join(settings, protocols, n, j, watched, residents));
      }
      log.info("N={} {}: {}", n, mode, joins);
      return new Cell(n, mode, joins, residentsStart, null);
    } finally {
      residents.forEach(DiscoveryEngine::shutdown);
      for (DiscoveryEngine engine : residents) {
        engine.close();
      }
    }
  }

  private Join join(
      DiscoverySettings settings,
      Protocol.Factory protocols,
      int n,
      int j,
      Map<String, Watch> watched,
      List<DiscoveryEngine> residents)
      throws InterruptedException {
    int residentCount = residents.size();
    long sentBefore = sent(residents);
    Announcement self = announcement(n + j);
    Watch watch = new Watch();
    watched.put(self.incarnation(), watch);
    AtomicLong firstAnnounce = new AtomicLong();
    AtomicLong lastSeen = new AtomicLong();
    AtomicInteger seen = new AtomicInteger();
    DiscoveryEngine joiner =
        new DiscoveryEngine(
            protocols.create(settings, self, new SplittableRandom()),
            new EngineObserver() {
              @Override
              public void announced(long nanoTime) {
                firstAnnounce.compareAndSet(0, nanoTime);
              }

              @Override
              public void peerAdded(Announcement peer, long nanoTime) {
                if (!peer.service().equals(SERVICE) || peer.port() >= 10_000 + n) {
                  return; // An earlier joiner's late heartbeat: not one of the residents.
                }
                seen.incrementAndGet();
                lastSeen.accumulateAndGet(nanoTime, Math::max);
              }
            });
    joiner.start();
    long deadline = System.nanoTime() + heartbeat.multipliedBy(3).plusSeconds(10).toNanos();
    while ((watch.count.get() < residentCount || seen.get() < residentCount)
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    Thread.sleep(200); // the second responder's roster may still be on its way: count it
    long notifications = sent(residents) - sentBefore + joiner.status().sent();
    joiner.close();
    watched.remove(self.incarnation());
    if (watch.count.get() < residentCount || seen.get() < residentCount) {
      log.warn(
          "Joiner {} of N={} incomplete: seen by {}, sees {} of {}",
          j,
          n,
          watch.count.get(),
          seen.get(),
          residentCount);
      return new Join(Double.NaN, Double.NaN, notifications);
    }
    return new Join(
        (watch.last.get() - firstAnnounce.get()) / 1e6,
        (lastSeen.get() - firstAnnounce.get()) / 1e6,
        notifications);
  }

  private static long sent(List<DiscoveryEngine> engines) {
    return engines.stream().mapToLong(engine -> engine.status().sent()).sum();
  }

  /**
   * N participants started at the same moment (not in batches), none joining: seconds from the
   * first start until every one is ready and has listed all the others, and the notifications they
   * sent meanwhile.
   */
  String coldStart(int[] sizes, Duration deadline) throws InterruptedException {
    List<ColdStart> rows = new ArrayList<>();
    for (int n : sizes) {
      rows.add(coldStart(n, deadline));
    }
    StringBuilder md =
        new StringBuilder(
                "Engine only, all participants in one JVM, each with its own connection, ")
            .append(
                "started at the same moment (one thread starting them in a loop, not in batches); heartbeats every ")
            .append(heartbeat.toMillis() / 1000.0)
            .append(" s, silent once joined (the default). The participants ")
            .append(
                "join a modelled cluster as Cluster Bootstrap would have them: the one with the lowest address ")
            .append(
                "forms it once it answers lookups, any other joins once it answers lookups and has heard a member; ")
            .append("every ")
            .append(CLUSTER_ROUND.toMillis())
            .append(" ms (about Akka's gossip interval) the cluster ")
            .append(
                "admits those that can join, and tells each newcomer MemberUp of every member and every member ")
            .append(
                "MemberUp of the newcomers, as gossip would. *All know all*: from the first start until every ")
            .append(
                "participant answers lookups and has listed every other one. *All joined*: until the last one ")
            .append(
                "joined. *Started*: how long the loop starting the engines took. *Notifications*: sent by all of ")
            .append("them until all knew all. Target: 500 within 30 s.\n\n")
            .append(
                "| N | all know all | all joined | started | notifications | per participant | complete | members |\n")
            .append("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (ColdStart row : rows) {
      md.append("| ")
          .append(row.participants())
          .append(" | ")
          .append(
              row.failure() != null
                  ? "not within " + deadline.toSeconds() + " s"
                  : String.format("%.1f s", row.seconds()))
          .append(" | ")
          .append(
              Double.isNaN(row.joinedSeconds())
                  ? "not within " + deadline.toSeconds() + " s"
                  : String.format("%.1f s", row.joinedSeconds()))
          .append(" | ")
          .append(String.format("%.1f s", row.startSeconds()))
          .append(" | ")
          .append(row.notifications())
          .append(" | ")
          .append(String.format("%.1f", (double) row.notifications() / row.participants()))
          .append(" | ")
          .append(row.complete())
          .append(" of ")
          .append(row.participants())
          .append(" | ")
          .append(row.members())
          .append(" |\n");
    }
    return md.toString();
  }

  /** How many of the engines answer lookups and have listed every other one. */
  private static int complete(List<DiscoveryEngine> engines, List<Set<String>> seen) {
    int complete = 0;
    for (int i = 0; i < engines.size(); i++) {
      if (seen.get(i).size() >= engines.size() - 1 && engines.get(i).isReady()) {
        complete++;
      }
    }
    return complete;
  }

  private ColdStart coldStart(int n, Duration deadline) throws InterruptedException {
    String channel = "bench_cold_" + n + "_" + Long.toHexString(System.nanoTime());
    DiscoverySettings settings =
        DiscoverySettings.builder(db.url())
            .user(db.user())
            .password(db.password())
            .channel(channel)
            .timings(heartbeat, heartbeat.multipliedBy(3))
            .connectTimeout(Duration.ofSeconds(15))
            .connectionCheckInterval(Duration.ofSeconds(5))
            .maxPeersPerService(Math.max(1024, n + 64))
            .build();
    List<DiscoveryEngine> engines = new ArrayList<>();
    List<Set<String>> seen = new ArrayList<>();
    long started = System.nanoTime();
    ModelledCluster cluster = new ModelledCluster();
    try {
      for (int i = 0; i < n; i++) {
        Set<String> peers = ConcurrentHashMap.newKeySet();
        seen.add(peers);
        DiscoveryEngine engine =
            new DiscoveryEngine(
                settings,
                announcement(i),
                new EngineObserver() {
                  @Override
                  public void peerAdded(Announcement peer, long nanoTime) {
                    peers.add(peer.incarnation());
                  }
                });
        engines.add(engine);
        cluster.add(engine, peers);
        engine.start();
      }
      double startSeconds = (System.nanoTime() - started) / 1e9;
      log.info("cold start of {}: all engines started after {} s", n, startSeconds);
      long end = started + deadline.toNanos();
      // Counted at least once: on a loaded machine starting the engines can take longer than the
      // deadline itself.
      int complete = complete(engines, seen);
      double seconds = Double.NaN;
      long notifications = 0;
      while (true) {
        if (complete == n && Double.isNaN(seconds)) {
          seconds = (System.nanoTime() - started) / 1e9;
          notifications = sent(engines);
        }
        if ((complete == n && cluster.size() == n) || System.nanoTime() >= end) {
          break;
        }
        Thread.sleep(20);
        complete = complete(engines, seen);
      }
      if (Double.isNaN(seconds)) {
        seconds = (System.nanoTime() - started) / 1e9;
        notifications = sent(engines);
      }
      log.info(
          "cold start of {}: {} complete after {} s, {} notifications; {} joined",
          n,
          complete,
          seconds,
          notifications,
          cluster.size());
      return new ColdStart(
          n,
          seconds,
          cluster.joinedSeconds(started),
          startSeconds,
          notifications,
          complete,
          cluster.size(),
          complete == n ? null : "incomplete");
    } finally {
      cluster.close();
      engines.forEach(DiscoveryEngine::shutdown);
      engines.forEach(DiscoveryEngine::close);
    }
  }

  /**
   * What Cluster Bootstrap and the cluster do with discovery's answers, reduced to what discovery
   * sees of it: the participant added first (the lowest address) forms the cluster once it answers
   * lookups; any other joins once it answers lookups and has heard a member. Every {@link
   * #CLUSTER_ROUND} its own thread admits those that can join, tells each newcomer that it joined
   * and MemberUp of every member, and every member MemberUp of it.
   */
  private static final class ModelledCluster implements AutoCloseable {

    private final List<DiscoveryEngine> participants = new CopyOnWriteArrayList<>();
    private final List<Set<String>> heard = new CopyOnWriteArrayList<>();

    /** Incarnations of the members; written by the cluster's thread only. */
    private final Set<String> members = ConcurrentHashMap.newKeySet();

    private final List<DiscoveryEngine> memberEngines =
        new ArrayList<>(); // the cluster's thread only
    private final AtomicLong lastJoinNanos = new AtomicLong();
    private final Thread thread = new Thread(this::run, "bench-modelled-cluster");
    private volatile boolean closed;

    ModelledCluster() {
      thread.setDaemon(true);
      thread.start();
    }

    void add(DiscoveryEngine engine, Set<String> heardBy) {
      heard.add(heardBy);
      participants.add(engine);
    }

    int size() {
      return members.size();
    }

    /** Seconds from {@code started} until the last participant joined; NaN while not all have. */
    double joinedSeconds(long started) {
      return !participants.isEmpty() && members.size() == participants.size()
          ? (lastJoinNanos.get() - started) / 1e9
          : Double.NaN;
    }

    private void run() {
      while (!closed) {
        try {
          Thread.sleep(CLUSTER_ROUND.toMillis());
        } catch (InterruptedException e) {
          return;
        }
        admit();
      }
    }

    private void admit() {
      List<DiscoveryEngine> newcomers = new ArrayList<>();
      for (int i = 0; i < participants.size(); i++) {
        DiscoveryEngine engine = participants.get(i);
        if (members.contains(engine.self().incarnation()) || !engine.isReady()) {
          continue;
        }
        boolean canJoin =
            memberEngines.isEmpty() ? i == 0 : heard.get(i).stream().anyMatch(members::contains);
        if (canJoin) {
          newcomers.add(engine);
        }
      }
      for (DiscoveryEngine newcomer : newcomers) {
        newcomer.joined();
        for (DiscoveryEngine member : memberEngines) {
          newcomer.memberUp(member.self().address(), member.self().uid());
          member.memberUp(newcomer.self().address(), newcomer.self().uid());
        }
        memberEngines.add(newcomer);
        members.add(newcomer.self().incarnation());
      }
      if (!newcomers.isEmpty()) {
        lastJoinNanos.set(System.nanoTime());
      }
    }

    @Override
    public void close() throws InterruptedException {
      closed = true;
      thread.interrupt();
      thread.join(10_000);
    }
  }

  /**
   * As a formed Akka cluster tells its nodes: each is Up (joined), and hears MemberUp of every
   * other; with joined heartbeats off, that is what keeps the silent members in each other's
   * tables.
   */
  static void formCluster(List<DiscoveryEngine> engines) {
    formCluster(engines, 0);
  }

  /**
   * The same for the engines from {@code from} on, joining those before them, which are members
   * already.
   */
  static void formCluster(List<DiscoveryEngine> engines, int from) {
    for (int i = from; i < engines.size(); i++) {
      DiscoveryEngine engine = engines.get(i);
      engine.joined();
      for (int j = 0; j < engines.size(); j++) {
        DiscoveryEngine other = engines.get(j);
        if (j != i) {
          engine.memberUp(other.self().address(), other.self().uid());
          if (j < from) {
            other.memberUp(engine.self().address(), engine.self().uid());
          }
        }
      }
    }
  }

  private static void awaitReady(List<DiscoveryEngine> engines, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!engines.stream().allMatch(DiscoveryEngine::isReady)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("participants not ready within " + timeout);
      }
      Thread.sleep(20);
    }
  }

  private static Announcement announcement(int i) {
    return new Announcement(
        SERVICE,
        "127.0.0.1",
        10_000 + i,
        "akka://bench@127.0.0.1:" + (30_000 + i),
        i,
        UUID.randomUUID().toString());
  }

  /** When the residents' tables took in one joiner. */
  private static final class Watch {
    final AtomicInteger count = new AtomicInteger();
    final AtomicLong last = new AtomicLong();

    void seenBy(long nanoTime) {
      count.incrementAndGet();
      last.accumulateAndGet(nanoTime, Math::max);
    }
  }

  private String markdown(List<Cell> cells) {
    StringBuilder md = new StringBuilder();
    md.append(
            "Engine only (no Akka), all participants in one JVM, each with its own connection. Joiners announce ")
        .append("every ")
        .append(heartbeat.toMillis() / 1000.0)
        .append(" s (`heartbeat-interval`); residents ")
        .append(
            "are members of a formed cluster, which with probe + reply are silent (joined heartbeats off, the ")
        .append(
            "default; each told of the others' MemberUp as Akka would), and in the heartbeat-only mode announce ")
        .append("at the same ")
        .append(heartbeat.toMillis() / 1000.0)
        .append(
            " s as everybody, as libcluster_postgres does. For each joiner, from its first announcement: ")
        .append(
            "*others see it* = until every resident's table holds it; *it sees others* = until its table ")
        .append(
            "holds every resident; *full* = the later of the two. Milliseconds, nearest-rank percentiles over ")
        .append(
            "the joiners. *Residents started in*: from starting the first of the N - 1 residents until all ")
        .append("were ready, started in batches of ")
        .append(START_BATCH)
        .append(
            " (with probe + reply, each probes as it starts and is answered by the first two ready ones' ")
        .append(
            "rosters). *Notifications per join*: what the joiner and all residents sent from the joiner's start ")
        .append(
            "until it was complete (+ 200 ms), median and max over the joiners, against the bound ")
        .append(
            "2 + 2 x ceil(N / 40); in the heartbeat-only mode it counts the residents' heartbeats in that time.")
        .append("\n\n");
    md.append(
        "| N | mode | joiners | others see it p50 / p99 / max | it sees others p50 / p99 / max "
            + "| full p50 / p99 / max | notifications per join p50 / max (bound) | residents started in |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (Cell cell : cells) {
      if (cell.failure() != null) {
        md.append("| ")
            .append(cell.participants())
            .append(" | ")
            .append(cell.mode())
            .append(" | not measured: ")
            .append(cell.failure())
            .append(" | | | | | |\n");
        continue;
      }
      List<Join> complete =
          cell.joins().stream().filter(join -> !Double.isNaN(join.full())).toList();
      Stats others = Stats.of(complete.stream().map(Join::othersSeeIt).toList());
      Stats sees = Stats.of(complete.stream().map(Join::itSeesOthers).toList());
      Stats full = Stats.of(complete.stream().map(Join::full).toList());
      md.append("| ")
          .append(cell.participants())
          .append(" | ")
          .append(cell.mode())
          .append(" | ")
          .append(complete.size())
          .append(
              cell.joins().size() > complete.size()
                  ? " (" + (cell.joins().size() - complete.size()) + " incomplete)"
                  : "")
          .append(" | ")
          .append(triple(others))
          .append(" | ")
          .append(triple(sees))
          .append(" | ")
          .append(triple(full))
          .append(" | ")
          .append(notifications(cell))
          .append(" | ")
          .append(String.format("%.1f s", cell.residentsStartSeconds()))
          .append(" |\n");
    }
    return md.toString();
  }

  private static String notifications(Cell cell) {
    List<Double> counts = cell.joins().stream().map(join -> (double) join.notifications()).toList();
    if (counts.isEmpty()) {
      return "";
    }
    Stats stats = Stats.of(counts);
    return Stats.format(stats.p50())
        + " / "
        + Stats.format(stats.max())
        + " ("
        + (2 + 2 * ((cell.participants() + 39) / 40))
        + ")";
  }

  private static String triple(Stats stats) {
    return Stats.format(stats.p50())
        + " / "
        + Stats.format(stats.p99())
        + " / "
        + Stats.format(stats.max());
  }
}
