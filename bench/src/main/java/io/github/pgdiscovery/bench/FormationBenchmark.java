package io.github.pgdiscovery.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * Cluster formation time: from launching N sample node JVMs to all N Up, with the {@code postgres}
 * discovery method against Akka's built-in {@code config} method given every node's endpoint up
 * front (the floor: contact points known at once), under the same Cluster Bootstrap settings. Each
 * node is its own process, as in a real deployment, so the times include JVM and Akka start-up for
 * both methods alike.
 */
public final class FormationBenchmark {

  private static final String NODE_MAIN_CLASS = "io.github.pgdiscovery.sample.SampleNode";

  /**
   * Small stacks and heap, the serial collector and C1 only: ten node JVMs on a two-core machine
   * would otherwise spend formation fighting over CPU for JIT and GC threads. The same flags for
   * both methods.
   */
  private static final List<String> NODE_JVM_FLAGS =
      List.of("-Xss512k", "-XX:+UseSerialGC", "-Xmx192m", "-XX:TieredStopAtLevel=1");

  private static final String DEFAULT_NODE_CLASSPATH =
      "sample/akka/target/lib/*:sample/akka/target/akka-discovery-postgres-sample.jar";
  private static final String BOOTSTRAP = "akka.management.cluster.bootstrap.";
  private static final String CONFIG_ENDPOINTS =
      "akka.discovery.config.services." + FormationNode.SYSTEM_NAME + ".endpoints.";

  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration GRACEFUL_STOP = Duration.ofSeconds(5);

  /**
   * A node that survives destroyForcibly this long is reported; the next run would compete with it
   * for CPU.
   */
  private static final Duration KILL_WAIT = Duration.ofSeconds(30);

  /** The p90 of fewer samples would just be the maximum under another name. */
  private static final int MIN_SAMPLES_FOR_P90 = 5;

  /** Longer raw sample lists would bury the table; they are in the progress output anyway. */
  private static final int MAX_RAW_SAMPLES_SHOWN = 20;

  private static final double TARGET_RATIO = 1.05;

  /** The discovery methods compared; postgres first in every table. */
  enum Method {
    POSTGRES("postgres"),
    CONFIG("config");

    final String label;

    Method(String label) {
      this.label = label;
    }
  }

  /** Bootstrap settings under test, the same for both methods. */
  enum Profile {
    DEFAULT("default", 5.0, List.of()),
    TIGHT(
        "tight",
        1.0,
        List.of(
            "-D" + BOOTSTRAP + "contact-point-discovery.stable-margin=1s",
            "-D" + BOOTSTRAP + "contact-point-discovery.interval=200ms",
            "-D" + BOOTSTRAP + "contact-point.probe-interval=200ms"));

    final String label;

    /**
     * Bootstrap's stable-margin in this profile, in seconds: what a method that learns of a node
     * only once it runs pays over a static list at most.
     */
    final double stableMarginSeconds;

    final List<String> properties;

    Profile(String label, double stableMarginSeconds, List<String> properties) {
      this.label = label;
      this.stableMarginSeconds = stableMarginSeconds;
      this.properties = properties;
    }

    static Profile byLabel(String label) {
      for (Profile profile : values()) {
        if (profile.label.equals(label)) {
          return profile;
        }
      }
      throw new IllegalArgumentException("unknown profile \"" + label + "\" (default or tight)");
    }
  }

  /** One cell of the result tables. */
  private record Cell(int nodes, Profile profile, Method method) {}

  /**
   * What one run gave, in seconds from launch: every node answering, the first member Up (Bootstrap
   * decided to form the cluster), all Up; or why it failed.
   */
  private record Outcome(
      double answeringSeconds,
      double firstUpSeconds,
      double formedSeconds,
      NodeLogs logs,
      String failure) {

    static Outcome formed(double answeringSeconds, double firstUpSeconds, double formedSeconds) {
      return new Outcome(answeringSeconds, firstUpSeconds, formedSeconds, NodeLogs.NONE, null);
    }

    static Outcome failed(String failure) {
      return new Outcome(Double.NaN, Double.NaN, Double.NaN, NodeLogs.NONE, failure);
    }

    Outcome withLogs(NodeLogs logs) {
      return new Outcome(answeringSeconds, firstUpSeconds, formedSeconds, logs, failure);
    }

    boolean ok() {
      return failure == null;
    }
  }

  /**
   * What the node logs tell, in seconds from launch: when the last node printed STARTED (the
   * sample's line once Management answers and Bootstrap runs); the longest any node's first
   * Bootstrap lookup waited for its answer (the first answer); the CPU a node had used when it
   * printed STARTED, the mean of the N (what the start costs, less moved by the machine's load than
   * the times); when the lowest-addressed node's Bootstrap first located all N contact points. NaN
   * where a log does not say.
   */
  record NodeLogs(
      double lastStartedSeconds,
      double startCpuSeconds,
      double firstAnswerWaitSeconds,
      double allLocatedSeconds) {
    static final NodeLogs NONE = new NodeLogs(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
  }

  /** One interleaved pair: the same N, profile and repetition, both methods back to back. */
  private record Pair(int nodes, Profile profile, int rep, boolean postgresFirst) {}

  /** The samples of one cell, in run order. */
  private static final class Series {
    final List<Double> answering = new ArrayList<>();
    final List<Double> firstUp = new ArrayList<>();
    final List<Double> formed = new ArrayList<>();
    int failures;

    void add(Outcome outcome) {
      if (outcome.ok()) {
        answering.add(outcome.answeringSeconds());
        firstUp.add(outcome.firstUpSeconds());
        formed.add(outcome.formedSeconds());
      } else {
        failures++;
      }
    }
  }

  private final Map<String, String> nodeEnv;
  private final String nodeClasspath;
  private final Path logRoot;
  private final String javaCommand =
      Path.of(System.getProperty("java.home"), "bin", "java").toString();

  /**
   * Channels get this suffix so a rerun against the same database cannot hear an earlier run's
   * leftovers.
   */
  private final String runTag = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(REQUEST_TIMEOUT)
          .build();
  private final ObjectMapper json = new ObjectMapper();
  private final PortPicker ports = new PortPicker();
  private final Map<Cell, Series> results = new LinkedHashMap<>();
  private final Map<Pair, Map<Method, Outcome>> pairs = new LinkedHashMap<>();

  private FormationBenchmark(Map<String, String> nodeEnv, String nodeClasspath, Path logRoot) {
    this.nodeEnv = nodeEnv;
    this.nodeClasspath = nodeClasspath;
    this.logRoot = logRoot;
  }

  /**
   * Runs the benchmark and returns its results as a Markdown section (no top-level heading).
   * Progress goes to stderr, one line per run. {@code nodeClasspath} is the sample's class path,
   * e.g. {@value #DEFAULT_NODE_CLASSPATH}; {@code user} and {@code password} may be null.
   */
  public static String run(
      String jdbcUrl,
      String user,
      String password,
      String nodeClasspath,
      int[] nodeCounts,
      int repetitions,
      List<String> profiles)
      throws Exception {
    if (jdbcUrl == null || jdbcUrl.isBlank()) {
      throw new IllegalArgumentException("jdbcUrl is required");
    }
    if (nodeClasspath == null || nodeClasspath.isBlank()) {
      throw new IllegalArgumentException("nodeClasspath is required");
    }
    if (nodeCounts == null
        || nodeCounts.length == 0
        || Arrays.stream(nodeCounts).anyMatch(n -> n < 1)) {
      throw new IllegalArgumentException("nodeCounts must list at least one count, each 1 or more");
    }
    if (repetitions < 1) {
      throw new IllegalArgumentException("repetitions must be 1 or more, not " + repetitions);
    }
    List<Profile> chosen = profiles.stream().map(Profile::byLabel).distinct().toList();
    if (chosen.isEmpty()) {
      throw new IllegalArgumentException("profiles must name at least one profile");
    }
    // Both methods get the same environment: the postgres extension only starts when its method is
    // used, and
    // identical environments rule out any other difference.
    Map<String, String> env = new LinkedHashMap<>();
    env.put("AKKA_DISCOVERY_POSTGRES_URL", jdbcUrl);
    env.put("AKKA_DISCOVERY_POSTGRES_USER", blankToNull(user));
    env.put("AKKA_DISCOVERY_POSTGRES_PASSWORD", blankToNull(password));
    // The license key reaches the nodes through the environment, which application.conf reads as
    // ${?AKKA_LICENSE_KEY}; as a -D it would show in every process listing. Without one, Akka ends
    // a node after
    // 15 minutes, far longer than a run.
    env.put("AKKA_LICENSE_KEY", blankToNull(System.getenv("AKKA_LICENSE_KEY")));
    Path logRoot = logRoot();
    Files.createDirectories(logRoot);
    return new FormationBenchmark(env, nodeClasspath, logRoot)
        .measure(nodeCounts.clone(), repetitions, chosen);
  }

  private String measure(int[] nodeCounts, int repetitions, List<Profile> profiles)
      throws IOException, InterruptedException {
    long started = System.nanoTime();
    int total = nodeCounts.length * repetitions * profiles.size() * Method.values().length;
    progress(
        String.format(
            Locale.ROOT,
            "formation: %d runs (N=%s, %d repetitions, profiles %s, methods postgres and config), node logs in %s",
            total,
            Arrays.stream(nodeCounts).mapToObj(Integer::toString).collect(Collectors.joining(",")),
            repetitions,
            profiles.stream().map(p -> p.label).collect(Collectors.joining(" and ")),
            logRoot));

    // The first cluster started pays for reading the jars from disk and warming the page cache;
    // that belongs to
    // neither method, so one run is made and thrown away.
    int smallest = Arrays.stream(nodeCounts).min().orElseThrow();
    Outcome warmUp = runCluster(smallest, "w", Profile.TIGHT, Method.CONFIG);
    progress("formation warm-up N=" + smallest + " (discarded): " + describe(warmUp));

    int done = 0;
    for (int n : nodeCounts) {
      for (int rep = 1; rep <= repetitions; rep++) {
        for (Profile profile : profiles) {
          // Alternating which method goes first spreads any drift (a warming disk cache, a
          // neighbour's load)
          // over both.
          List<Method> order =
              rep % 2 == 1
                  ? List.of(Method.POSTGRES, Method.CONFIG)
                  : List.of(Method.CONFIG, Method.POSTGRES);
          Pair pair = new Pair(n, profile, rep, order.get(0) == Method.POSTGRES);
          for (Method method : order) {
            Outcome outcome = runCluster(n, Integer.toString(rep), profile, method);
            results.computeIfAbsent(new Cell(n, profile, method), c -> new Series()).add(outcome);
            pairs.computeIfAbsent(pair, p -> new LinkedHashMap<>()).put(method, outcome);
            done++;
            progress(
                String.format(
                    Locale.ROOT,
                    "formation [%d/%d] N=%d rep %d/%d %s %s: %s",
                    done,
                    total,
                    n,
                    rep,
                    repetitions,
                    profile.label,
                    method.label,
                    describe(outcome)));
          }
        }
      }
    }
    double wallSeconds = seconds(System.nanoTime() - started);
    progress(String.format(Locale.ROOT, "formation: done in %.0f s", wallSeconds));
    return markdown(nodeCounts, repetitions, profiles, wallSeconds);
  }

  /** Launches one cluster of {@code n} nodes, waits for it to form, and stops it again. */
  private Outcome runCluster(int n, String rep, Profile profile, Method method)
      throws IOException, InterruptedException {
    String runName = "n" + n + "-r" + rep + "-" + profile.label + "-" + method.label;
    Path logDir = logRoot.resolve(runName);
    Files.createDirectories(logDir);
    List<Integer> picked = ports.pick(2 * n);
    List<FormationNode> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path logFile = logDir.resolve("node-" + (i + 1) + ".log");
      nodes.add(new FormationNode(i + 1, picked.get(i), picked.get(n + i), logFile));
    }
    List<String> command = nodeCommand(n, rep, profile, method, nodes);

    long launchedAt = System.nanoTime();
    long launchedAtMillis = System.currentTimeMillis();
    try {
      for (FormationNode node : nodes) {
        node.start(command, n, nodeEnv);
      }
      Outcome outcome = awaitFormation(nodes, launchedAt, logDir);
      return outcome.ok() ? outcome.withLogs(NodeLogReader.read(nodes, launchedAtMillis)) : outcome;
    } finally {
      stopAll(nodes);
    }
  }

  private List<String> nodeCommand(
      int n, String rep, Profile profile, Method method, List<FormationNode> nodes) {
    List<String> command = new ArrayList<>();
    command.add(javaCommand);
    command.addAll(NODE_JVM_FLAGS);
    command.add("-cp");
    command.add(nodeClasspath);
    // A channel of its own per run, and per benchmark invocation (the tag): no run can discover
    // another run's
    // nodes, not even leftovers of an earlier invocation against the same database.
    command.add(
        "-Dakka.discovery.postgres.channel=bench_formation_"
            + n
            + "_"
            + rep
            + "_"
            + profile.label
            + "_"
            + method.label
            + "_"
            + runTag);
    command.addAll(profile.properties);
    command.add("-D" + BOOTSTRAP + "contact-point-discovery.discovery-method=" + method.label);
    if (method == Method.CONFIG) {
      // Numbered keys: Typesafe Config turns an object whose keys are all integers into a list when
      // a list is
      // asked for, which is how the config method reads "endpoints"; so -D properties can express
      // the list and
      // the sample's application.conf stays as it is.
      for (int i = 0; i < nodes.size(); i++) {
        command.add("-D" + CONFIG_ENDPOINTS + i + ".host=" + FormationNode.HOST);
        command.add("-D" + CONFIG_ENDPOINTS + i + ".port=" + nodes.get(i).managementPort());
      }
    }
    command.add(NODE_MAIN_CLASS);
    return command;
  }

  /** Polls every node until all list the N launched nodes as members, all Up. */
  private Outcome awaitFormation(List<FormationNode> nodes, long launchedAt, Path logDir)
      throws InterruptedException {
    long deadline = launchedAt + RUN_TIMEOUT.toNanos();
    long answeringAt = -1;
    long firstUpAt = -1;
    long nextPoll = launchedAt;
    Set<String> expected = nodes.stream().map(FormationNode::address).collect(Collectors.toSet());
    while (true) {
      for (FormationNode node : nodes) {
        if (!node.isAlive()) {
          return Outcome.failed(
              node.name()
                  + " exited with code "
                  + node.exitCode()
                  + " before the cluster formed"
                  + " (see "
                  + logDir.resolve(node.name() + ".log")
                  + ")");
        }
      }
      List<JsonNode> views = pollAll(nodes);
      // Taken when the answers are in: the cluster was formed by then at the latest.
      long now = System.nanoTime();
      if (answeringAt < 0 && views.stream().allMatch(view -> view != null)) {
        answeringAt = now;
      }
      // Bootstrap's decision (the lowest-addressed node joining itself) as opposed to the others
      // joining it
      // afterwards: separates what discovery and the stable margin take from Akka's own joining.
      if (firstUpAt < 0 && views.stream().anyMatch(view -> upCount(view) > 0)) {
        firstUpAt = now;
      }
      if (formed(views, expected)) {
        return Outcome.formed(
            seconds(answeringAt - launchedAt),
            seconds(firstUpAt - launchedAt),
            seconds(now - launchedAt));
      }
      if (now >= deadline) {
        return Outcome.failed(
            "not formed within "
                + RUN_TIMEOUT.toSeconds()
                + " s; Up members each node saw: "
                + upCounts(views)
                + " (see "
                + logDir
                + ")");
      }
      // A fixed cadence, so a slow poll does not stretch the interval; a poll that overran starts
      // the next at once.
      nextPoll = Math.max(nextPoll + POLL_INTERVAL.toNanos(), System.nanoTime());
      long sleepNanos = nextPoll - System.nanoTime();
      if (sleepNanos > 0) {
        Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
      }
    }
  }

  /**
   * Every node's /cluster/members answer, null for a node that did not answer (not started yet, or
   * busy).
   */
  private List<JsonNode> pollAll(List<FormationNode> nodes) {
    List<CompletableFuture<JsonNode>> requests = new ArrayList<>();
    for (FormationNode node : nodes) {
      HttpRequest request =
          HttpRequest.newBuilder(node.membersUri()).timeout(REQUEST_TIMEOUT).GET().build();
      requests.add(
          http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
              .thenApply(response -> response.statusCode() == 200 ? parse(response.body()) : null)
              .exceptionally(error -> null));
    }
    return requests.stream().map(CompletableFuture::join).toList();
  }

  private JsonNode parse(String body) {
    try {
      return json.readTree(body);
    } catch (IOException e) {
      return null;
    }
  }

  /** Every node lists exactly the launched nodes as members, all Up. */
  private static boolean formed(List<JsonNode> views, Set<String> expected) {
    for (JsonNode view : views) {
      if (view == null) {
        return false;
      }
      Set<String> seen = new HashSet<>();
      for (JsonNode member : view.path("members")) {
        if (!"Up".equals(member.path("status").asText())) {
          return false;
        }
        seen.add(member.path("node").asText());
      }
      if (!seen.equals(expected)) {
        return false;
      }
    }
    return true;
  }

  /**
   * For a timeout message: how many Up members each node saw, "-" for a node that did not answer.
   */
  private static String upCounts(List<JsonNode> views) {
    return views.stream()
        .map(view -> view == null ? "-" : Integer.toString(upCount(view)))
        .toList()
        .toString();
  }

  private static int upCount(JsonNode view) {
    int up = 0;
    if (view != null) {
      for (JsonNode member : view.path("members")) {
        if ("Up".equals(member.path("status").asText())) {
          up++;
        }
      }
    }
    return up;
  }

  /**
   * SIGTERM to all at once (each runs coordinated shutdown and leaves), a forced kill for those
   * still running after {@link #GRACEFUL_STOP}, and a wait until every process has ended, so the
   * next run has the CPU and the database to itself.
   */
  private static void stopAll(List<FormationNode> nodes) throws InterruptedException {
    nodes.forEach(FormationNode::stop);
    long deadline = System.nanoTime() + GRACEFUL_STOP.toNanos();
    for (FormationNode node : nodes) {
      if (!node.awaitExit((deadline - System.nanoTime()) / 1_000_000)) {
        node.kill();
      }
    }
    for (FormationNode node : nodes) {
      if (!node.awaitExit(KILL_WAIT.toMillis())) {
        progress(
            "formation: "
                + node.name()
                + " still running "
                + KILL_WAIT.toSeconds()
                + " s after a forced kill");
      }
    }
  }

  private String markdown(
      int[] nodeCounts, int repetitions, List<Profile> profiles, double wallSeconds) {
    StringBuilder md = new StringBuilder();
    md.append(
            "Formation time: from launching N node JVMs (one `SampleNode` process per node, all on 127.0.0.1, ")
        .append(
            "one cluster at a time) to the first poll at which every node's `GET /cluster/members` lists all ")
        .append("N nodes as members, all Up. Nodes are polled every ")
        .append(POLL_INTERVAL.toMillis())
        .append(
            " ms, so times are known to about 0.1 s. `postgres` is this library's discovery method; `config` ")
        .append(
            "is Akka's built-in config discovery given every node's management endpoint up front, the floor ")
        .append(
            "for any discovery method as every contact point is known the moment a node starts. Both run with ")
        .append(
            "the same Bootstrap settings (required-contact-point-nr = N) in the profiles run here, of ")
        .append(
            "**default** (Bootstrap's defaults: stable-margin 5 s, discovery interval 1 s, probe interval ")
        .append(
            "1 s) and **tight** (stable-margin 1 s, discovery and probe interval 200 ms), which keeps ")
        .append(
            "Bootstrap's own margins from hiding what discovery costs. Every node JVM runs with `")
        .append(String.join(" ", NODE_JVM_FLAGS))
        .append("`, the same for both methods, to keep 10 JVMs workable on this machine's ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(
            " CPUs; the times therefore include JVM and Akka start-up, which the second table separates. ")
        .append(
            "Runs are interleaved (for each N, repetition and profile: postgres and config back to back, ")
        .append("alternating which goes first), after one discarded warm-up run; ")
        .append(repetitions)
        .append(repetitions == 1 ? " repetition" : " repetitions")
        .append(" per cell; a run that has not formed within ")
        .append(RUN_TIMEOUT.toSeconds())
        .append(" s counts as a failure. Target: postgres median ≤ ")
        .append(TARGET_RATIO)
        .append(" × config median. Times in seconds.\n\n");
    pairsMarkdown(md, nodeCounts, profiles);

    md.append(
            "| N | profile | postgres median | min | max | p90 | config median | min | max | p90 ")
        .append("| postgres / config | failures (postgres / config) | ratio ≤ ")
        .append(TARGET_RATIO)
        .append(" |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int n : nodeCounts) {
      for (Profile profile : profiles) {
        Series pg = series(n, profile, Method.POSTGRES);
        Series config = series(n, profile, Method.CONFIG);
        double ratio = median(pg.formed) / median(config.formed);
        String verdict;
        if (Double.isNaN(ratio)) {
          verdict = "no result";
        } else {
          verdict = ratio <= TARGET_RATIO ? "met" : "not met";
          if (pg.failures > 0) {
            // A failed postgres run would not show in its median, so the row cannot count as met.
            verdict = "not met (" + pg.failures + " failed)";
          }
          // With few samples, a verdict either way means little when the two methods' ranges
          // overlap.
          if (Collections.min(pg.formed) <= Collections.max(config.formed)
              && Collections.min(config.formed) <= Collections.max(pg.formed)) {
            verdict += ", ranges overlap";
          }
        }
        md.append("| ")
            .append(n)
            .append(" | ")
            .append(profile.label)
            .append(" | ")
            .append(stats(pg.formed))
            .append(" | ")
            .append(stats(config.formed))
            .append(" | ")
            .append(Double.isNaN(ratio) ? "–" : String.format(Locale.ROOT, "%.2f", ratio))
            .append(" | ")
            .append(pg.failures)
            .append(" / ")
            .append(config.failures)
            .append(" | ")
            .append(verdict)
            .append(" |\n");
      }
    }

    md.append(
            "\nWhere the time goes (medians, seconds from launch unless marked): *all answering* is the first ")
        .append(
            "poll at which every node's management endpoint answered, the JVM and Akka start-up of the slowest ")
        .append(
            "node; *first Up* is the first poll at which any node reported an Up member, that is when Bootstrap ")
        .append(
            "on the lowest-addressed node decided to form the cluster (discovery, stable margin, probing); ")
        .append(
            "*all Up* is formation as above; the others joining in between is Akka's own work and the same ")
        .append("for both methods.\n\n");
    md.append(
            "| N | profile | method | all answering | first Up | all Up | all answering → first Up ")
        .append("| first Up → all Up |\n");
    md.append("|---:|---|---|---:|---:|---:|---:|---:|\n");
    for (int n : nodeCounts) {
      for (Profile profile : profiles) {
        for (Method method : Method.values()) {
          Series s = series(n, profile, method);
          md.append("| ")
              .append(n)
              .append(" | ")
              .append(profile.label)
              .append(" | ")
              .append(method.label)
              .append(" | ")
              .append(format(median(s.answering)))
              .append(" | ")
              .append(format(median(s.firstUp)))
              .append(" | ")
              .append(format(median(s.formed)))
              .append(" | ")
              .append(format(median(differences(s.firstUp, s.answering))))
              .append(" | ")
              .append(format(median(differences(s.formed, s.firstUp))))
              .append(" |\n");
        }
      }
    }
    // How Bootstrap treats the two methods differently, which the numbers alone do not show.
    md.append(
            "\nHow to read *all answering → first Up*: Bootstrap forms the cluster once the lowest-addressed node ")
        .append(
            "has confirmed N contact points by probing them and its discovered set has not changed for the ")
        .append(
            "stable margin. With `config` the set is complete and never changes, so the margin runs from that ")
        .append(
            "node's first lookup, while the other JVMs are still starting, and its probes are already running ")
        .append(
            "when they come up. With `postgres` the set grows as nodes announce themselves, so the margin ")
        .append(
            "restarts with every newcomer and counts only from when the last node is seen (up to one discovery ")
        .append(
            "interval after it announces), and probing a node starts only once it has been discovered. That ")
        .append(
            "phase is therefore where discovery's cost shows; the phases before and after it are the same work ")
        .append("for both methods.\n");

    if (repetitions <= MAX_RAW_SAMPLES_SHOWN) {
      md.append("\nRaw formation times in seconds, in run order:\n\n");
      for (int n : nodeCounts) {
        for (Profile profile : profiles) {
          for (Method method : Method.values()) {
            Series s = series(n, profile, method);
            md.append("- N=")
                .append(n)
                .append(", ")
                .append(profile.label)
                .append(", ")
                .append(method.label)
                .append(": ")
                .append(
                    s.formed.isEmpty()
                        ? "none"
                        : s.formed.stream()
                            .map(FormationBenchmark::format)
                            .collect(Collectors.joining(", ")))
                .append(s.failures > 0 ? " (" + s.failures + " failed)" : "")
                .append("\n");
          }
        }
      }
    }
    md.append(
        String.format(
            Locale.ROOT,
            "\nWall time of the formation benchmark: %d min %02d s (warm-up and stopping the nodes after each run "
                + "included).\n",
            (long) wallSeconds / 60,
            (long) wallSeconds % 60));
    return md.toString();
  }

  /**
   * The pairs, one row each, then per N and profile what they say together: how often and by how
   * much postgres was slower, that difference against one stable-margin, and the start-up.
   */
  private void pairsMarkdown(StringBuilder md, int[] nodeCounts, List<Profile> profiles) {
    md.append(
            "**Interleaved pairs.** Each repetition is a pair: postgres and config back to back, ")
        .append("postgres first in odd pairs. *Δ* is postgres − config. A method that learns of a ")
        .append("node only once the node runs pays up to one stable-margin over a static list ")
        .append(
            "(Bootstrap's margin restarts when the last node appears, instead of running while ")
        .append("the JVMs start); *Δ − margin* is what this library adds beyond that, ≤ 0 when ")
        .append(
            "nothing. *Last STARTED*: when the last node printed STARTED (its Management answers ")
        .append(
            "and its Bootstrap runs), from the node logs. *First answer*: the longest any node's ")
        .append("first Bootstrap lookup waited for its answer. *All located*: when the ")
        .append("lowest-addressed node's Bootstrap first located all N contact points. *CPU to ")
        .append(
            "STARTED*: the CPU seconds a node's process had used when it printed STARTED, mean ")
        .append("of the N, which the machine's load moves less than the times. Seconds from ")
        .append(
            "launch; all on one shared machine (see the note above), so single pairs move by a ")
        .append("second with its load.\n\n");
    md.append("| N | profile | pair | postgres all Up | config all Up | Δ | Δ − margin ")
        .append("| last STARTED postgres / config | Δ STARTED | first answer postgres / config ")
        .append("| all located postgres / config | CPU to STARTED postgres / config |\n");
    md.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<Pair, Map<Method, Outcome>> entry : pairs.entrySet()) {
      Pair pair = entry.getKey();
      Outcome pg = entry.getValue().get(Method.POSTGRES);
      Outcome config = entry.getValue().get(Method.CONFIG);
      if (pg == null || config == null) {
        continue;
      }
      double delta = pg.formedSeconds() - config.formedSeconds();
      md.append("| ")
          .append(pair.nodes())
          .append(" | ")
          .append(pair.profile().label)
          .append(" | ")
          .append(pair.rep())
          .append(pair.postgresFirst() ? " (postgres first)" : " (config first)")
          .append(" | ")
          .append(pg.ok() ? format(pg.formedSeconds()) : "failed")
          .append(" | ")
          .append(config.ok() ? format(config.formedSeconds()) : "failed")
          .append(" | ")
          .append(signed(delta))
          .append(" | ")
          .append(signed(delta - pair.profile().stableMarginSeconds))
          .append(" | ")
          .append(format(pg.logs().lastStartedSeconds()))
          .append(" / ")
          .append(format(config.logs().lastStartedSeconds()))
          .append(" | ")
          .append(signed(pg.logs().lastStartedSeconds() - config.logs().lastStartedSeconds()))
          .append(" | ")
          .append(format(pg.logs().firstAnswerWaitSeconds()))
          .append(" / ")
          .append(format(config.logs().firstAnswerWaitSeconds()))
          .append(" | ")
          .append(format(pg.logs().allLocatedSeconds()))
          .append(" / ")
          .append(format(config.logs().allLocatedSeconds()))
          .append(" | ")
          .append(format(pg.logs().startCpuSeconds()))
          .append(" / ")
          .append(format(config.logs().startCpuSeconds()))
          .append(" |\n");
    }

    md.append(
            "\nTogether, over the pairs where both formed: *postgres slower* counts the pairs in ")
        .append(
            "which postgres formed later, *STARTED later* those in which its last node printed ")
        .append("STARTED later; median / mean.\n\n");
    md.append("| N | profile | stable-margin | postgres slower | Δ | Δ − margin | STARTED later ")
        .append("| Δ STARTED (min to max) | first answer postgres / config ")
        .append("| all located postgres / config | CPU to STARTED postgres / config |\n");
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int n : nodeCounts) {
      for (Profile profile : profiles) {
        List<Double> deltas = new ArrayList<>();
        List<Double> startedDeltas = new ArrayList<>();
        List<Double> pgAnswer = new ArrayList<>();
        List<Double> configAnswer = new ArrayList<>();
        List<Double> pgLocated = new ArrayList<>();
        List<Double> configLocated = new ArrayList<>();
        List<Double> pgCpu = new ArrayList<>();
        List<Double> configCpu = new ArrayList<>();
        for (Map.Entry<Pair, Map<Method, Outcome>> entry : pairs.entrySet()) {
          Pair pair = entry.getKey();
          Outcome pg = entry.getValue().get(Method.POSTGRES);
          Outcome config = entry.getValue().get(Method.CONFIG);
          if (pair.nodes() != n
              || pair.profile() != profile
              || pg == null
              || config == null
              || !pg.ok()
              || !config.ok()) {
            continue;
          }
          deltas.add(pg.formedSeconds() - config.formedSeconds());
          addKnown(
              startedDeltas, pg.logs().lastStartedSeconds() - config.logs().lastStartedSeconds());
          addKnown(pgAnswer, pg.logs().firstAnswerWaitSeconds());
          addKnown(configAnswer, config.logs().firstAnswerWaitSeconds());
          addKnown(pgLocated, pg.logs().allLocatedSeconds());
          addKnown(configLocated, config.logs().allLocatedSeconds());
          addKnown(pgCpu, pg.logs().startCpuSeconds());
          addKnown(configCpu, config.logs().startCpuSeconds());
        }
        if (deltas.isEmpty()) {
          continue;
        }
        double margin = profile.stableMarginSeconds;
        List<Double> beyond = deltas.stream().map(d -> d - margin).toList();
        md.append("| ")
            .append(n)
            .append(" | ")
            .append(profile.label)
            .append(" | ")
            .append(format(margin))
            .append(" | ")
            .append(deltas.stream().filter(d -> d > 0).count())
            .append(" of ")
            .append(deltas.size())
            .append(" | ")
            .append(signed(median(deltas)))
            .append(" / ")
            .append(signed(mean(deltas)))
            .append(" | ")
            .append(signed(median(beyond)))
            .append(" / ")
            .append(signed(mean(beyond)))
            .append(" | ")
            .append(startedDeltas.stream().filter(d -> d > 0).count())
            .append(" of ")
            .append(startedDeltas.size())
            .append(" | ")
            .append(signed(median(startedDeltas)))
            .append(" / ")
            .append(signed(mean(startedDeltas)))
            .append(
                startedDeltas.isEmpty()
                    ? ""
                    : " ("
                        + signed(Collections.min(startedDeltas))
                        + " to "
                        + signed(Collections.max(startedDeltas))
                        + ")")
            .append(" | ")
            .append(format(median(pgAnswer)))
            .append(" / ")
            .append(format(median(configAnswer)))
            .append(" | ")
            .append(format(median(pgLocated)))
            .append(" / ")
            .append(format(median(configLocated)))
            .append(" | ")
            .append(format(median(pgCpu)))
            .append(" / ")
            .append(format(median(configCpu)))
            .append(" |\n");
      }
    }
    md.append("\n");
  }

  private static void addKnown(List<Double> samples, double value) {
    if (!Double.isNaN(value)) {
      samples.add(value);
    }
  }

  private static double mean(List<Double> samples) {
    return samples.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  private static String signed(double seconds) {
    return Double.isNaN(seconds) ? "–" : String.format(Locale.ROOT, "%+.2f", seconds);
  }

  private Series series(int n, Profile profile, Method method) {
    return results.getOrDefault(new Cell(n, profile, method), new Series());
  }

  /** median | min | max | p90, as four table cells. */
  private static String stats(List<Double> samples) {
    if (samples.isEmpty()) {
      return "– | – | – | –";
    }
    List<Double> sorted = samples.stream().sorted().toList();
    String p90 =
        sorted.size() >= MIN_SAMPLES_FOR_P90
            ? format(sorted.get((int) Math.ceil(0.9 * sorted.size()) - 1))
            : "–";
    return format(median(sorted))
        + " | "
        + format(sorted.get(0))
        + " | "
        + format(sorted.get(sorted.size() - 1))
        + " | "
        + p90;
  }

  /** Per run: later − earlier. */
  private static List<Double> differences(List<Double> later, List<Double> earlier) {
    List<Double> differences = new ArrayList<>();
    for (int i = 0; i < later.size(); i++) {
      differences.add(later.get(i) - earlier.get(i));
    }
    return differences;
  }

  private static double median(List<Double> samples) {
    if (samples.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = samples.stream().sorted().toList();
    int middle = sorted.size() / 2;
    return sorted.size() % 2 == 1
        ? sorted.get(middle)
        : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
  }

  private static String format(double seconds) {
    return Double.isNaN(seconds) ? "–" : String.format(Locale.ROOT, "%.2f", seconds);
  }

  private static String describe(Outcome outcome) {
    return outcome.ok()
        ? String.format(
            Locale.ROOT,
            "%.2f s (all answering at %.2f s, first Up at %.2f s)",
            outcome.formedSeconds(),
            outcome.answeringSeconds(),
            outcome.firstUpSeconds())
        : "FAILED: " + outcome.failure();
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static void progress(String line) {
    System.err.println(line);
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  /**
   * bench/target/formation-logs: the parent of where this class was loaded from is target/ both for
   * the jar and for target/classes.
   */
  private static Path logRoot() {
    try {
      Path loadedFrom =
          Path.of(
              FormationBenchmark.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return loadedFrom.toAbsolutePath().getParent().resolve("formation-logs");
    } catch (URISyntaxException | RuntimeException e) {
      return Path.of("bench", "target", "formation-logs").toAbsolutePath();
    }
  }

  /**
   * Hands out ports nothing listens on, moving on through a range instead of reusing the last run's
   * ports: those may still be held by the sockets of processes that have only just exited. The
   * range stays below Linux's ephemeral ports (32768 and up), where outgoing connections would take
   * ports at random.
   */
  private static final class PortPicker {
    private static final int FIRST = 20000;
    private static final int LAST = 32000;
    private int next = FIRST;

    List<Integer> pick(int count) throws IOException {
      List<Integer> picked = new ArrayList<>();
      int tried = 0;
      while (picked.size() < count) {
        if (++tried > LAST - FIRST) {
          throw new IOException("not enough free ports from " + FIRST + " to " + LAST);
        }
        int port = next;
        next = next == LAST ? FIRST : next + 1;
        if (isFree(port)) {
          picked.add(port);
        }
      }
      return picked;
    }

    private static boolean isFree(int port) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress(InetAddress.getByName(FormationNode.HOST), port));
        return true;
      } catch (IOException e) {
        return false;
      }
    }
  }

  private static final String USAGE =
      String.join(
          "\n",
          "Usage: FormationBenchmark [--nodes 3,10] [--pairs 5] [--profiles default,tight]"
              + " [--node-classpath CLASSPATH]",
          "",
          "Measures cluster formation time (launch of N node JVMs to all Up) with the postgres discovery method",
          "against Akka's config method, and prints the results as Markdown on stdout; progress goes to stderr.",
          "Uses the PostgreSQL named by AKKA_DISCOVERY_POSTGRES_URL (with AKKA_DISCOVERY_POSTGRES_USER and",
          "AKKA_DISCOVERY_POSTGRES_PASSWORD), or an embedded one when that is not set.",
          "",
          "  --nodes LIST            cluster sizes, comma-separated (default 3,10)",
          "  --pairs R               interleaved pairs (a postgres and a config run) per size and profile",
          "                          (default 5; --repetitions is the same)",
          "  --profiles LIST         Bootstrap profiles, default and/or tight (default both)",
          "  --node-classpath CP     class path of the sample node (default "
              + DEFAULT_NODE_CLASSPATH
              + ")");

  public static void main(String[] args) throws Exception {
    int[] nodeCounts = {3, 10};
    int repetitions = 5;
    List<String> profiles = List.of("default", "tight");
    String nodeClasspath = DEFAULT_NODE_CLASSPATH;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "-h", "--help" -> {
            System.out.println(USAGE);
            return;
          }
          case "--nodes" ->
              nodeCounts =
                  Arrays.stream(valueAfter(args, i++).split(","))
                      .map(String::trim)
                      .mapToInt(Integer::parseInt)
                      .toArray();
          case "--repetitions", "--pairs" ->
              repetitions = Integer.parseInt(valueAfter(args, i++).trim());
          case "--profiles" -> profiles = List.of(valueAfter(args, i++).trim().split(","));
          case "--node-classpath" -> nodeClasspath = valueAfter(args, i++);
          default -> throw new IllegalArgumentException("unknown argument \"" + args[i] + "\"");
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println("Error: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }

    long started = System.nanoTime();
    String url = blankToNull(System.getenv("AKKA_DISCOVERY_POSTGRES_URL"));
    EmbeddedPostgres embedded = null;
    String user;
    String password;
    if (url == null) {
      progress(
          "formation: starting an embedded PostgreSQL (set AKKA_DISCOVERY_POSTGRES_URL to use your own)");
      embedded = EmbeddedPostgres.builder().setServerConfig("max_connections", "200").start();
      url = embedded.getJdbcUrl("postgres", "postgres");
      user = "postgres";
      password = null;
    } else {
      user = System.getenv("AKKA_DISCOVERY_POSTGRES_USER");
      password = System.getenv("AKKA_DISCOVERY_POSTGRES_PASSWORD");
    }
    try {
      System.out.print(run(url, user, password, nodeClasspath, nodeCounts, repetitions, profiles));
      System.out.flush();
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
    progress(
        String.format(
            Locale.ROOT, "formation: wall time %.0f s", seconds(System.nanoTime() - started)));
  }

  private static String valueAfter(String[] args, int index) {
    if (index + 1 >= args.length) {
      throw new IllegalArgumentException(args[index] + " needs a value");
    }
    return args[index + 1];
  }
}
