package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.cluster.Cluster;
import akka.cluster.ClusterEvent.CurrentClusterState;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Five actor systems, none of them already in a cluster, released all at once or one and then two
 * pairs, must bootstrap exactly one cluster through the postgres method, every time: no node may
 * form a cluster of its own beside the others'.
 *
 * <p>Bootstrap's own safeguards are turned down so that they cannot be what prevents a split: any
 * two nodes that have found each other may form a cluster (2 of 5 contact points required), and the
 * contact points they found need to stay the same for only {@value #STABLE_MARGIN_MILLIS} ms. The
 * database is 100 ms away from every node (a proxy holds all traffic for that long each way), so a
 * node that has just joined the channel hears a node that joined with it 200 ms after that node's
 * announcement, but the replies to its own probe, from the nodes already there, only 400 ms after
 * it sent the probe. A lookup answered in between would give each node of a pair that arrived
 * together the other one and nobody else, and the lower of the two would form a cluster beside the
 * one the nodes before them are forming. What prevents that is discovery's readiness gate: a lookup
 * fails until the node has heard its own probe come back and the probe-reply window (500 ms here,
 * for the distance) has passed, so its first answer holds every node that was on the channel when
 * it probed.
 *
 * <p>The trials are repeated in one run because a split, when it happens, depends on the
 * interleaving. With the gate disabled (lookups answered before the node is ready), 4 and 3 of the
 * 8 trials split in two runs on a 2-core machine, all of them trials released in pairs; with the
 * gate, none did. Without the delay, a disabled gate split no trial: from a database on the same
 * host the replies come within milliseconds, before any lookup.
 */
@DatabaseTest
final class SplitFreeBootstrapTest {

  private static final Logger LOG = LoggerFactory.getLogger(SplitFreeBootstrapTest.class);

  private static final int TRIALS = 8;
  private static final int NODES = 5;

  /** Fewer than the nodes, so that the first two nodes to find each other may form a cluster. */
  private static final int REQUIRED_CONTACT_POINTS = 2;

  /** Bootstrap's stable-margin, far below its default of 5 s. */
  private static final long STABLE_MARGIN_MILLIS = 100;

  /**
   * One-way delay between every node and the database; a probe's replies come back after four of
   * these.
   */
  private static final Duration DATABASE_LATENCY = Duration.ofMillis(100);

  /**
   * probe-reply-window for that distance: the replies come two one-way delays after the node's own
   * probe.
   */
  private static final String PROBE_REPLY_WINDOW = "500ms";

  /**
   * The trials' release schedules, in turn: when each node starts, in ms after the release. In
   * pairs, two nodes join the channel together while the nodes before them are forming a cluster,
   * and hear each other's announcements before the others' replies to their probes. Pairs come
   * twice as often as all at once: they are where a broken gate shows.
   */
  private static final List<Release> RELEASES =
      List.of(
          new Release("all at once", 0, 0, 0, 0, 0),
          new Release("one, then pairs 700 ms apart", 0, 700, 700, 1400, 1400),
          new Release("one, then pairs 700 ms apart", 0, 700, 700, 1400, 1400));

  private static final Duration START_DEADLINE = Duration.ofSeconds(60);
  private static final Duration FORMATION_DEADLINE = Duration.ofSeconds(60);

  /**
   * How long a trial waits for the threads of its terminated actor systems to end; only reported.
   */
  private static final Duration THREAD_END_DEADLINE = Duration.ofSeconds(20);

  private static final String SUMMARY_FILE = "split-free-trials.txt";

  private final TestDatabase db;

  SplitFreeBootstrapTest(TestDatabase db) {
    this.db = db;
  }

  @Test
  void fiveNodesReleasedTogetherOrStaggeredAlwaysFormExactlyOneCluster() throws Exception {
    long runStarted = System.nanoTime();
    List<Trial> trials = new ArrayList<>();
    ExecutorService starters =
        Executors.newFixedThreadPool(NODES, namedThreads("split-free-starter-"));
    try {
      for (int number = 1; number <= TRIALS; number++) {
        Trial trial = runTrial(number, RELEASES.get((number - 1) % RELEASES.size()), starters);
        trials.add(trial);
        LOG.info(trial.line());
      }
    } finally {
      starters.shutdownNow();
      starters.awaitTermination(30, TimeUnit.SECONDS);
    }

    String summary = summary(trials, Duration.ofNanos(System.nanoTime() - runStarted));
    LOG.info(summary);
    writeSummary(trials, summary);

    List<String> failures =
        trials.stream().filter(trial -> !trial.oneCluster()).map(Trial::line).toList();
    assertTrue(
        failures.isEmpty(),
        () ->
            failures.size()
                + " of "
                + trials.size()
                + " trials did not form exactly one cluster:\n"
                + String.join("\n", failures));
  }

  /**
   * One trial: a fresh channel, a database {@link #DATABASE_LATENCY} away, five nodes started on
   * the schedule of {@code release}, their views once formed (or at the deadline).
   */
  private Trial runTrial(int number, Release release, ExecutorService starters)
      throws InterruptedException, IOException {
    int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
    Duration formation = null;
    String failure = null;
    String leader = null;
    List<ActorSystem> started;
    try (TcpProxy database =
            TcpProxy.delaying(db.host(), db.port(), TcpProxy.freePort(), DATABASE_LATENCY);
        AkkaNodes nodes = new AkkaNodes(db, REQUIRED_CONTACT_POINTS)) {
      database.start();
      String overrides =
          String.join(
              "\n",
              "akka.discovery.postgres.url = \"" + db.jdbcUrlVia(database.port()) + "\"",
              "akka.discovery.postgres.probe-reply-window = " + PROBE_REPLY_WINDOW,
              "akka.management.cluster.bootstrap.contact-point-discovery.stable-margin = "
                  + STABLE_MARGIN_MILLIS
                  + "ms",
              // Bootstrap retries failed lookups (the gate's) at most 1 s apart, and members become
              // Up sooner; both only
              // shorten the trials.
              "akka.management.cluster.bootstrap.contact-point-discovery.exponential-backoff-max = 1s",
              "akka.cluster.periodic-tasks-initial-delay = 200ms",
              "akka.cluster.gossip-interval = 200ms",
              "akka.cluster.leader-actions-interval = 200ms",
              // Terminated without leaving the cluster first: the trial is over, and leaving takes
              // seconds.
              "akka.coordinated-shutdown.run-by-actor-system-terminate = off");
      CountDownLatch ready = new CountDownLatch(NODES);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<ActorSystem>> starting = new ArrayList<>();
      long released;
      try {
        for (int i = 0; i < NODES; i++) {
          long delayMillis = release.startMillis()[i];
          starting.add(
              starters.submit(
                  () -> {
                    ready.countDown();
                    if (!go.await(START_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                      throw new IllegalStateException("not released within " + START_DEADLINE);
                    }
                    // Schedules the start; the nodes' ports, and so which of them is lowest, are
                    // random.
                    Thread.sleep(delayMillis);
                    return nodes.start(overrides);
                  }));
        }
        if (!ready.await(START_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
          throw new IllegalStateException(
              "the starter threads were not all waiting within " + START_DEADLINE);
        }
      } finally {
        released = System.nanoTime();
        go.countDown();
      }

      failure = awaitStarts(starting);
      if (failure == null) {
        List<ActorSystem> systems = nodes.systems();
        Set<String> everyone =
            systems.stream().map(AkkaNodes::address).collect(Collectors.toCollection(TreeSet::new));
        long settled = 0;
        try {
          // The leader each node reports comes from its own copy of the cluster state, which events
          // update one at a
          // time: a node has been seen to list all five members Up while it still named the leader
          // of the moment
          // before the lowest address became Up. So the trial waits for the views to agree, not
          // just to fill.
          Poll.until(
              FORMATION_DEADLINE,
              "every node sees all "
                  + NODES
                  + " nodes Up and the same leader, or two nodes are Up in clusters that"
                  + " share no member",
              () ->
                  (allSeeEveryoneUp(systems, everyone) && leaders(systems).size() == 1)
                      || splitEvident(systems),
              () -> views(systems));
          settled = System.nanoTime();
        } catch (AssertionError e) {
          failure = e.getMessage();
        }
        if (failure == null) {
          Set<String> leaders = leaders(systems);
          boolean oneCluster =
              allSeeEveryoneUp(systems, everyone)
                  && leaders.size() == 1
                  && everyone.containsAll(leaders);
          if (oneCluster) {
            formation = Duration.ofNanos(settled - released);
            leader = leaders.iterator().next();
          } else if (splitEvident(systems)) {
            awaitEveryNodeAMember(systems);
            failure =
                "split: nodes are Up in clusters that share no member (leaders "
                    + leaders(systems)
                    + "): "
                    + views(systems);
          } else {
            failure =
                "not exactly one cluster of all "
                    + NODES
                    + " nodes (leaders "
                    + leaders
                    + "): "
                    + views(systems);
          }
        }
      }
      started = nodes.systems();
    }

    List<String> notTerminated =
        started.stream()
            .filter(system -> !system.whenTerminated().isCompleted())
            .map(ActorSystem::toString)
            .toList();
    List<String> lingering = awaitAkkaThreadsEnded();
    return new Trial(
        number,
        release.name(),
        started.size(),
        formation,
        leader,
        failure,
        threadsBefore,
        notTerminated,
        lingering);
  }

  /** Waits for every start to return; null when all did, otherwise what went wrong. */
  private static String awaitStarts(List<Future<ActorSystem>> starting)
      throws InterruptedException {
    long end = System.nanoTime() + START_DEADLINE.toNanos();
    for (Future<ActorSystem> future : starting) {
      try {
        future.get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        return "a node failed to start: " + e.getCause();
      } catch (TimeoutException e) {
        return "a node did not start within " + START_DEADLINE;
      }
    }
    return null;
  }

  private static boolean allSeeEveryoneUp(List<ActorSystem> systems, Set<String> everyone) {
    return systems.stream().allMatch(system -> AkkaNodes.upMembers(system).equals(everyone));
  }

  /**
   * True when two nodes are each Up in a cluster and their views share no member. Every member of
   * one cluster knows the member that founded it, and nothing is removed in these trials, so
   * disjoint views mean two clusters, and a node that is Up in one cluster never joins another:
   * waiting longer cannot repair it.
   */
  private static boolean splitEvident(List<ActorSystem> systems) {
    List<Set<String>> upViews = new ArrayList<>();
    for (ActorSystem system : systems) {
      Cluster cluster = Cluster.get(system);
      if (cluster.selfMember().status() == MemberStatus.up()) {
        upViews.add(members(cluster.state()).keySet());
      }
    }
    for (int i = 0; i < upViews.size(); i++) {
      for (int j = i + 1; j < upViews.size(); j++) {
        if (Collections.disjoint(upViews.get(i), upViews.get(j))) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * After a split, gives the nodes that are not yet members of either cluster time to join one, so
   * that the failure shows the clusters as they end up; returns at the deadline regardless.
   */
  private static void awaitEveryNodeAMember(List<ActorSystem> systems) {
    try {
      Poll.until(
          FORMATION_DEADLINE,
          "every node is Up in some cluster",
          () ->
              systems.stream()
                  .allMatch(
                      system -> Cluster.get(system).selfMember().status() == MemberStatus.up()));
    } catch (AssertionError e) {
      // Describe the views as they are.
    }
  }

  /** Each member's address and status, in address order. */
  private static Map<String, String> members(CurrentClusterState state) {
    Map<String, String> members = new TreeMap<>();
    for (Member member : state.getMembers()) {
      members.put(member.address().toString(), member.status().toString());
    }
    return members;
  }

  private static Set<String> leaders(List<ActorSystem> systems) {
    return systems.stream()
        .map(system -> Objects.toString(Cluster.get(system).state().getLeader(), "none"))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /**
   * Every node's view: its own status, the leader it sees, each member it knows with its status,
   * unreachables.
   */
  private static String views(List<ActorSystem> systems) {
    StringBuilder out = new StringBuilder();
    for (ActorSystem system : systems) {
      Cluster cluster = Cluster.get(system);
      CurrentClusterState state = cluster.state();
      Set<String> unreachable =
          state.getUnreachable().stream()
              .map(member -> member.address().toString())
              .collect(Collectors.toCollection(TreeSet::new));
      Map<String, String> members = members(state);
      String self = members.getOrDefault(cluster.selfAddress().toString(), "not a member yet");
      out.append("\n  node ")
          .append(cluster.selfAddress())
          .append(" (self ")
          .append(self)
          .append(", leader ")
          .append(Objects.toString(state.getLeader(), "none"))
          .append("): members ")
          .append(members)
          .append(", unreachable ")
          .append(unreachable);
    }
    return out.toString();
  }

  /**
   * Waits for the threads of this JVM's test actor systems and discovery engines to end, so the
   * next trial starts from none; returns the names of those still alive at the deadline (reported,
   * not asserted).
   */
  private static List<String> awaitAkkaThreadsEnded() {
    try {
      Poll.until(
          THREAD_END_DEADLINE,
          "the threads of the terminated actor systems ended",
          () -> akkaThreads().isEmpty(),
          SplitFreeBootstrapTest::akkaThreads);
      return List.of();
    } catch (AssertionError e) {
      return akkaThreads();
    }
  }

  private static List<String> akkaThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(
            name ->
                name.startsWith(AkkaNodes.SYSTEM_NAME + "-")
                    || name.startsWith("akka-discovery-postgres-"))
        .sorted()
        .toList();
  }

  private static String summary(List<Trial> trials, Duration total) {
    List<Duration> times =
        trials.stream().map(Trial::formation).filter(Objects::nonNull).sorted().toList();
    long oneCluster = trials.stream().filter(Trial::oneCluster).count();
    String formation =
        times.isEmpty()
            ? "no trial formed a cluster of all " + NODES
            : "formation time (release to all Up) min "
                + millis(times.get(0))
                + ", median "
                + millis(median(times))
                + ", max "
                + millis(times.get(times.size() - 1));
    return "Split-free bootstrap: "
        + trials.size()
        + " trials of "
        + NODES
        + " nodes ("
        + REQUIRED_CONTACT_POINTS
        + " contact points required, stable margin "
        + STABLE_MARGIN_MILLIS
        + " ms, database "
        + DATABASE_LATENCY.toMillis()
        + " ms away), "
        + oneCluster
        + " formed exactly one cluster; "
        + formation
        + "; run took "
        + millis(total);
  }

  private static Duration median(List<Duration> sorted) {
    int middle = sorted.size() / 2;
    if (sorted.size() % 2 == 1) {
      return sorted.get(middle);
    }
    return sorted.get(middle - 1).plus(sorted.get(middle)).dividedBy(2);
  }

  private static String millis(Duration duration) {
    return duration.toMillis() + " ms";
  }

  private static void writeSummary(List<Trial> trials, String summary) throws IOException {
    Path file = Path.of(System.getProperty("basedir", "."), "target", SUMMARY_FILE);
    Files.createDirectories(file.getParent());
    List<String> lines = new ArrayList<>();
    trials.forEach(trial -> lines.add(trial.line()));
    lines.add(summary);
    Files.write(file, lines);
    LOG.info("Split-free bootstrap summary written to {}", file.toAbsolutePath().normalize());
  }

  private static ThreadFactory namedThreads(String prefix) {
    AtomicInteger counter = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** A release schedule: its name, and when each node starts, in ms after the release. */
  private record Release(String name, long... startMillis) {}

  /**
   * The outcome of one trial. {@code formation} is null when not every node saw every node Up;
   * {@code failure} is null when the nodes formed exactly one cluster, otherwise it describes what
   * happened and each node's view.
   */
  private record Trial(
      int number,
      String release,
      int nodesStarted,
      Duration formation,
      String leader,
      String failure,
      int threadsBefore,
      List<String> notTerminated,
      List<String> lingeringThreads) {

    boolean oneCluster() {
      return failure == null;
    }

    String line() {
      String cleanUp =
          (notTerminated.isEmpty() && lingeringThreads.isEmpty()
                  ? "all systems terminated and their threads ended"
                  : "not terminated " + notTerminated + ", threads still alive " + lingeringThreads)
              + " (JVM threads at start "
              + threadsBefore
              + ")";
      if (oneCluster()) {
        return "Trial "
            + number
            + " ("
            + release
            + "): one cluster of "
            + nodesStarted
            + ", all Up "
            + millis(formation)
            + " after release, leader "
            + leader
            + "; "
            + cleanUp;
      }
      return "Trial " + number + " (" + release + "): FAILED; " + cleanUp + "; " + failure;
    }
  }
}
