package io.github.pgdiscovery.sample;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * The one-command local demo: a PostgreSQL server (embedded unless {@code
 * AKKA_DISCOVERY_POSTGRES_URL} is set) and N sample node JVMs ({@code
 * io.github.pgdiscovery.sample.SampleNode}) on 127.0.0.1 that form one cluster through it; with
 * {@code --pekko}, Pekko nodes ({@code io.github.pgdiscovery.sample.pekko.PekkoSampleNode}) and
 * {@code PEKKO_DISCOVERY_POSTGRES_URL}. Shows their progress by polling each node's Management,
 * prints the formed cluster, and stops everything on Ctrl-C.
 */
public final class LocalCluster {

  private static final String USAGE =
      String.join(
          "\n",
          "Usage: sample/run-local.sh [--pekko] [--nodes N] [--exit-when-formed] [--timeout SECONDS]",
          "",
          "Starts an embedded PostgreSQL and N sample nodes (separate JVMs on 127.0.0.1) that form one Akka",
          "cluster through it, or with --pekko one Apache Pekko cluster, then keeps them running until Ctrl-C.",
          "",
          "  --pekko             Apache Pekko nodes (pekko-discovery-postgres) instead of Akka nodes",
          "  --nodes N           number of nodes, 1 to "
              + Options.MAX_NODES
              + " (default "
              + Options.DEFAULT_NODES
              + ")",
          "  --exit-when-formed  stop everything once the cluster has formed: exit 0, or 1 when it has not formed",
          "                      within the timeout",
          "  --timeout SECONDS   how long formation may take (default "
              + Options.DEFAULT_TIMEOUT_SECONDS
              + ")",
          "",
          "Set AKKA_DISCOVERY_POSTGRES_URL (and AKKA_DISCOVERY_POSTGRES_USER, AKKA_DISCOVERY_POSTGRES_PASSWORD) to",
          "use your own PostgreSQL instead of the embedded one; with --pekko, PEKKO_DISCOVERY_POSTGRES_URL (and",
          "PEKKO_DISCOVERY_POSTGRES_USER, PEKKO_DISCOVERY_POSTGRES_PASSWORD).");

  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);

  /**
   * Progress is printed on every change, and this often when nothing changes, to show it is still
   * waiting.
   */
  private static final Duration PROGRESS_REPEAT = Duration.ofSeconds(5);

  /**
   * Leaving the cluster takes a node a second or two; after this a node is killed. That happens
   * when a member has become unreachable: without a downing provider the others cannot complete
   * leaving.
   */
  private static final Duration GRACEFUL_STOP = Duration.ofSeconds(10);

  private static final int LOG_TAIL_LINES = 20;

  private final Options options;
  private final Toolkit toolkit;
  private final Path logDir;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(REQUEST_TIMEOUT)
          .build();
  private final ObjectMapper json = new ObjectMapper();
  private final List<LocalNode> nodes = new ArrayList<>();
  private LocalDatabase database; // guarded by this
  private boolean stopped; // guarded by this

  /** Set when the JVM is exiting (Ctrl-C): nodes ending from now on are expected, not failures. */
  private volatile boolean exiting;

  private LocalCluster(Options options, Path logDir) {
    this.options = options;
    this.toolkit = options.toolkit();
    this.logDir = logDir;
  }

  public static void main(String[] args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("Error: " + e.getMessage());
      System.err.println();
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    if (options.help()) {
      System.out.println(USAGE);
      return;
    }
    System.exit(new LocalCluster(options, logDirectory()).run());
  }

  private int run() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::onJvmExit, "local-cluster-shutdown"));
    try {
      prepareLogDir();
      LocalDatabase external = LocalDatabase.fromEnvironment(toolkit, System.getenv());
      explain(external == null);
      LocalDatabase db = external != null ? useExternal(external) : startEmbedded();
      synchronized (this) {
        if (stopped) {
          db.close();
          return 1;
        }
        database = db;
      }
      long launchedAt = launchNodes(db);
      if (!awaitFormation(launchedAt)) {
        stopAll();
        return 1;
      }
      if (options.exitWhenFormed()) {
        stopAll();
        return 0;
      }
      keepRunning();
      stopAll();
      return 1;
    } catch (IOException e) {
      if (!exiting) {
        System.err.println("Error: " + e.getMessage());
      }
      stopAll();
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopAll();
      return 1;
    }
  }

  private void explain(boolean embedded) {
    say(
        "This demo runs "
            + options.nodes()
            + " "
            + toolkit.displayName()
            + " nodes on this machine, each its own JVM ("
            + toolkit.mainClass()
            + ").");
    say(
        "They form one cluster with no seed-node list: Cluster Bootstrap finds the other nodes with the \"postgres\"");
    say("discovery method, through LISTEN/NOTIFY on a PostgreSQL channel.");
    say(
        "Logs: "
            + shown(logDir)
            + "/node-<i>.log"
            + (embedded
                ? ", PostgreSQL server output in " + shown(logDir.resolve("postgres.log"))
                : ""));
  }

  private LocalDatabase useExternal(LocalDatabase external) {
    say("Database (from " + toolkit.urlEnv() + "): " + external.describe());
    return external;
  }

  private LocalDatabase startEmbedded() throws IOException {
    say(
        "Database: starting an embedded PostgreSQL (set "
            + toolkit.urlEnv()
            + " to use your own)...");
    long started = System.nanoTime();
    try {
      LocalDatabase embedded = LocalDatabase.startEmbedded(toolkit, logDir.resolve("postgres.log"));
      say("Database (embedded, started in " + seconds(started) + " s): " + embedded.describe());
      return embedded;
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "the embedded PostgreSQL did not start ("
              + e.getMessage()
              + "); see "
              + shown(logDir.resolve("postgres.log"))
              + ", or set "
              + toolkit.urlEnv()
              + " to a PostgreSQL server you run",
          e);
    }
  }

  /** Starts every node; returns the time of the first start, from which formation is timed. */
  private long launchNodes(LocalDatabase db) throws IOException {
    List<Integer> remotingPorts = freePorts(toolkit.firstRemotingPort(), options.nodes(), Set.of());
    List<Integer> managementPorts =
        freePorts(toolkit.firstManagementPort(), options.nodes(), Set.copyOf(remotingPorts));
    List<String> command = nodeCommand();
    say(
        "Starting "
            + options.nodes()
            + " nodes (Bootstrap waits for "
            + options.nodes()
            + " contact points before it forms a new cluster):");
    long launchedAt = System.nanoTime();
    for (int i = 0; i < options.nodes(); i++) {
      LocalNode node =
          new LocalNode(
              toolkit,
              i + 1,
              remotingPorts.get(i),
              managementPorts.get(i),
              logDir.resolve("node-" + (i + 1) + ".log"));
      synchronized (this) {
        if (stopped) {
          throw new IOException("interrupted while starting the nodes");
        }
        node.start(command, options.nodes(), db.nodeEnvironment());
        nodes.add(node);
      }
      say(
          "  "
              + node.name()
              + "  "
              + node.address()
              + "  management "
              + node.managementUrl()
              + "  pid "
              + node.pid()
              + "  log "
              + shown(node.logFile()));
    }
    return launchedAt;
  }

  /**
   * The command line of a node: this JVM's java binary, the class path of the toolkit's node module
   * (each node has its own, as an application has), and the node as the main class.
   */
  private List<String> nodeCommand() {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    return List.of(java, "-cp", toolkit.nodeClassPath(), toolkit.mainClass());
  }

  /**
   * Polls every node until all report the same N members, all Up. Returns false when a node died
   * or, with --exit-when-formed, when the timeout passed.
   */
  private boolean awaitFormation(long launchedAt) throws InterruptedException {
    long deadline = launchedAt + options.timeout().toNanos();
    boolean timeoutReported = false;
    String lastProgress = null;
    long lastPrinted = 0;
    while (true) {
      Map<LocalNode, MembersView> views = pollAll();
      long now = System.nanoTime();
      if (exiting) {
        return false;
      }
      for (LocalNode node : nodes) {
        if (!node.isAlive()) {
          reportDeath(node, "before the cluster formed");
          return false;
        }
      }
      String progress = progress(views);
      if (!progress.equals(lastProgress) || now - lastPrinted >= PROGRESS_REPEAT.toNanos()) {
        say(String.format(Locale.ROOT, "[%5.1fs] %s", (now - launchedAt) / 1e9, progress));
        lastProgress = progress;
        lastPrinted = now;
      }
      if (formed(views)) {
        printFormed(views.get(nodes.get(0)), (now - launchedAt) / 1e9);
        return true;
      }
      if (now > deadline && !timeoutReported) {
        timeoutReported = true;
        say("");
        say(
            "The cluster has not formed within "
                + options.timeout().toSeconds()
                + " s. The node logs in "
                + shown(logDir)
                + " say why.");
        if (options.exitWhenFormed()) {
          return false;
        }
        say("Still waiting; Ctrl-C stops everything.");
      }
      Thread.sleep(POLL_INTERVAL.toMillis());
    }
  }

  /** Every node's current answer, null for a node that did not answer (still starting, or busy). */
  private Map<LocalNode, MembersView> pollAll() {
    Map<LocalNode, CompletableFuture<MembersView>> requests = new LinkedHashMap<>();
    for (LocalNode node : nodes) {
      HttpRequest request =
          HttpRequest.newBuilder(node.membersUri()).timeout(REQUEST_TIMEOUT).GET().build();
      requests.put(
          node,
          http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
              .thenApply(
                  response -> {
                    if (response.statusCode() != 200) {
                      return null;
                    }
                    try {
                      return MembersView.parse(json, response.body());
                    } catch (IOException e) {
                      return null;
                    }
                  })
              .exceptionally(error -> null));
    }
    Map<LocalNode, MembersView> views = new LinkedHashMap<>();
    requests.forEach((node, request) -> views.put(node, request.join()));
    return views;
  }

  private static String progress(Map<LocalNode, MembersView> views) {
    StringBuilder line = new StringBuilder();
    views.forEach(
        (node, view) -> {
          if (line.length() > 0) {
            line.append("  ");
          }
          line.append(String.format(Locale.ROOT, "%s: %-11s", node.name(), state(view)));
        });
    return line.toString().stripTrailing();
  }

  /**
   * A node's state in a word: starting (no answer from Management yet), discovering (answering, but
   * not a member of any cluster: Bootstrap is looking up and probing contact points), then its own
   * member status, with the number of Up members it sees once it is Up.
   */
  private static String state(MembersView view) {
    if (view == null) {
      return "starting";
    }
    MembersView.Member self = view.self();
    if (self == null) {
      return "discovering";
    }
    return "Up".equals(self.status()) ? "Up(" + view.upCount() + ")" : self.status();
  }

  /** Every node sees exactly the launched nodes as members, all Up, none unreachable. */
  private boolean formed(Map<LocalNode, MembersView> views) {
    Set<String> expected = new HashSet<>();
    for (LocalNode node : nodes) {
      expected.add(node.address());
    }
    for (MembersView view : views.values()) {
      if (view == null || view.unreachableCount() > 0 || view.members().size() != expected.size()) {
        return false;
      }
      for (MembersView.Member member : view.members()) {
        if (!expected.contains(member.node()) || !"Up".equals(member.status())) {
          return false;
        }
      }
    }
    return true;
  }

  private void printFormed(MembersView view, double seconds) {
    List<List<String>> rows = new ArrayList<>();
    for (LocalNode node : nodes) {
      MembersView.Member member = view.member(node.address());
      rows.add(
          List.of(
              node.name(),
              member.node(),
              node.managementUrl(),
              member.status(),
              String.join(",", member.roles()),
              member.node().equals(view.leader()) ? "leader" : ""));
    }
    say("");
    say("Cluster formed:");
    say(
        TextTable.render(
            "  ", List.of("NODE", "ADDRESS", "MANAGEMENT", "STATUS", "ROLES", ""), rows));
    say("Leader: " + view.leader() + " (" + nodeName(view.leader()) + ")");
    say(
        String.format(
            Locale.ROOT,
            "Formed a cluster of %d node%s in %.1f s (from launch to all Up)",
            nodes.size(),
            nodes.size() == 1 ? "" : "s",
            seconds));
  }

  /**
   * Without --exit-when-formed: wait for Ctrl-C, telling the user about nodes that end on their
   * own.
   */
  private void keepRunning() throws InterruptedException {
    say("");
    say("The cluster keeps running. Try: curl " + nodes.get(0).membersUri());
    say(
        "Press Ctrl-C to stop the nodes"
            + (database.isEmbedded() ? " and the embedded PostgreSQL." : "."));
    if (toolkit == Toolkit.PEKKO) {
      say("Pekko needs no license key: the nodes run until you stop them.");
    } else {
      String licenseKey = System.getenv("AKKA_LICENSE_KEY");
      if (licenseKey == null || licenseKey.isBlank()) {
        say(
            "Without AKKA_LICENSE_KEY (free keys at https://akka.io/key) Akka stops the nodes after 15 minutes.");
      }
    }
    Set<LocalNode> reported = new HashSet<>();
    while (true) {
      Thread.sleep(1000);
      if (exiting) {
        // The shutdown hook owns the rest; the JVM ends when it is done.
        Thread.sleep(Long.MAX_VALUE);
      }
      for (LocalNode node : nodes) {
        if (!node.isAlive() && reported.add(node)) {
          reportDeath(node, "while the cluster was running");
        }
      }
      if (reported.size() == nodes.size()) {
        say("Every node has ended; stopping.");
        return;
      }
    }
  }

  private void reportDeath(LocalNode node, String when) {
    say("");
    say(
        node.name()
            + " (pid "
            + node.pid()
            + ") exited with code "
            + node.exitCode()
            + " "
            + when
            + ".");
    say("Last lines of " + shown(node.logFile()) + " (stack frames left out):");
    for (String line : node.logTail(LOG_TAIL_LINES)) {
      say("  | " + line);
    }
  }

  private void onJvmExit() {
    exiting = true;
    stopAll();
  }

  /**
   * Stops the nodes gracefully (so each leaves the cluster and says goodbye on the channel), kills
   * those that do not stop in time, then stops the embedded database. Runs once: from the main
   * thread, or from the shutdown hook on Ctrl-C, whichever comes first; the other waits for it. On
   * Ctrl-C, io.zonky's own shutdown hook stops the database at the same time, so nodes may log that
   * the channel went away before their goodbye: harmless, as every node is stopping.
   */
  private synchronized void stopAll() {
    if (stopped) {
      return;
    }
    stopped = true;
    List<LocalNode> running = nodes.stream().filter(LocalNode::isAlive).toList();
    if (!running.isEmpty()) {
      say("Stopping " + running.size() + " node" + (running.size() == 1 ? "" : "s") + "...");
      running.forEach(LocalNode::stopGracefully);
      long deadline = System.nanoTime() + GRACEFUL_STOP.toNanos();
      for (LocalNode node : running) {
        try {
          if (!node.awaitExit((deadline - System.nanoTime()) / 1_000_000)) {
            say(
                node.name()
                    + " did not stop within "
                    + GRACEFUL_STOP.toSeconds()
                    + " s, killing it");
            node.kill();
            node.awaitExit(5000);
          }
        } catch (InterruptedException e) {
          node.kill();
          Thread.currentThread().interrupt();
        }
      }
    }
    if (database != null && database.isEmbedded()) {
      say("Stopping the embedded PostgreSQL...");
      database.close();
    }
    say("Stopped.");
  }

  private String nodeName(String address) {
    for (LocalNode node : nodes) {
      if (node.address().equals(address)) {
        return node.name();
      }
    }
    return "not started here";
  }

  /**
   * {@code count} ports from {@code first} upwards that nothing listens on now, skipping {@code
   * taken}. Readable ports (25520, 25521, ...) make the demo's addresses easy to follow; a busy
   * one, say from another run, is skipped.
   */
  private static List<Integer> freePorts(int first, int count, Set<Integer> taken)
      throws IOException {
    List<Integer> ports = new ArrayList<>();
    for (int port = first; ports.size() < count; port++) {
      if (port > 65535) {
        throw new IOException("not enough free ports from " + first + " upwards");
      }
      if (!taken.contains(port) && isFree(port)) {
        ports.add(port);
      }
    }
    return ports;
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName(LocalNode.HOST), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * sample/target/local-cluster, found from where this class was loaded (the sample jar or
   * target/classes).
   */
  private static Path logDirectory() {
    try {
      Path loadedFrom =
          Path.of(LocalCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return loadedFrom.toAbsolutePath().getParent().resolve("local-cluster");
    } catch (URISyntaxException | RuntimeException e) {
      return Path.of("local-cluster").toAbsolutePath();
    }
  }

  /**
   * Creates the log directory and removes the logs of an earlier run, which could have had more
   * nodes.
   */
  private void prepareLogDir() throws IOException {
    Files.createDirectories(logDir);
    try (Stream<Path> files = Files.list(logDir)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.endsWith(".log") && (name.startsWith("node-") || name.equals("postgres.log"))) {
          Files.delete(file);
        }
      }
    }
  }

  /** A path relative to the working directory when it is inside it, as the user would type it. */
  private static String shown(Path path) {
    Path cwd = Path.of("").toAbsolutePath();
    Path absolute = path.toAbsolutePath().normalize();
    boolean inside = absolute.startsWith(cwd) && !absolute.equals(cwd);
    return inside ? cwd.relativize(absolute).toString() : absolute.toString();
  }

  private static String seconds(long startedNanos) {
    return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - startedNanos) / 1e9);
  }

  private static void say(String line) {
    System.out.println(line);
  }

  /** The command line, checked. */
  record Options(
      Toolkit toolkit, int nodes, boolean exitWhenFormed, Duration timeout, boolean help) {

    static final int DEFAULT_NODES = 3;
    static final int MAX_NODES = 50;
    static final int DEFAULT_TIMEOUT_SECONDS = 120;

    static Options parse(String[] args) {
      Toolkit toolkit = Toolkit.AKKA;
      int nodes = DEFAULT_NODES;
      boolean exitWhenFormed = false;
      long timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        String inline = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : null;
        switch (name) {
          case "-h", "--help" -> {
            return new Options(
                toolkit, nodes, exitWhenFormed, Duration.ofSeconds(timeoutSeconds), true);
          }
          case "--pekko" -> {
            noValue(name, inline);
            toolkit = Toolkit.PEKKO;
          }
          case "--exit-when-formed" -> {
            noValue(name, inline);
            exitWhenFormed = true;
          }
          case "--nodes" -> {
            String value = inline != null ? inline : valueAfter(args, i++, name);
            nodes = number(name, value, 1, MAX_NODES);
          }
          case "--timeout" -> {
            String value = inline != null ? inline : valueAfter(args, i++, name);
            // "90s" reads naturally next to Akka's and Pekko's durations; accept it as well as
            // "90".
            timeoutSeconds =
                number(
                    name,
                    value.endsWith("s") ? value.substring(0, value.length() - 1) : value,
                    1,
                    86_400);
          }
          default -> throw new IllegalArgumentException("unknown argument \"" + arg + "\"");
        }
      }
      return new Options(toolkit, nodes, exitWhenFormed, Duration.ofSeconds(timeoutSeconds), false);
    }

    /** Rejects a flag given a value, as in {@code --pekko=yes}. */
    private static void noValue(String name, String inline) {
      if (inline != null) {
        throw new IllegalArgumentException(name + " takes no value");
      }
    }

    private static String valueAfter(String[] args, int index, String name) {
      if (index + 1 >= args.length) {
        throw new IllegalArgumentException(name + " needs a value");
      }
      return args[index + 1];
    }

    private static int number(String name, String value, int min, int max) {
      try {
        int number = Integer.parseInt(value.trim());
        if (number < min || number > max) {
          throw new IllegalArgumentException(
              name + " must be from " + min + " to " + max + ", not " + number);
        }
        return number;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + " needs a whole number, not \"" + value + "\"");
      }
    }
  }
}
