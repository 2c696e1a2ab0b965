package io.github.pgdiscovery.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Runs the benchmarks and writes their tables, with a description of the machine, to a Markdown
 * file (BENCHMARKS.md by default). Started by bench/run.sh; {@code --smoke} runs every benchmark at
 * tiny sizes, to prove the entry point works, and writes bench/target/BENCHMARKS-smoke.md instead.
 */
public final class Benchmarks {

  private static final String USAGE =
      String.join(
          "\n",
          "Usage: bench/run.sh [--smoke] [--only formation,convergence,coldstart,cost,simulation] [--output FILE]"
              + " [--postgres-version 14..18]",
          "                    [--formation-sizes 3,10] [--formation-pairs 5] [--formation-profiles default,tight]",
          "                                                      interleaved pairs (postgres and config back to",
          "                                                      back) per size and Bootstrap profile",
          "                    [--convergence-sizes 10,50,200,500]",
          "                    [--cold-start-sizes 200,500] [--cost-sizes 200,500]",
          "                    [--cost-joined-heartbeats 0,30]   joined-heartbeat-interval(s) in seconds for the cost",
          "                                                      rows, 0 for off (the default configuration)",
          "                    [--cost-comparison-sizes 200]     sizes at which the cost benchmark also runs the",
          "                                                      comparison modes (one rate, joined heartbeats);",
          "                                                      none for none (at N = 500 they saturate 2 cores)",
          "                    [--cost-connection-checks 5]      connection-check-interval(s) in seconds for the cost rows",
          "                    [--convergence-heartbeat-only yes|no]   also the heartbeat-only comparison (default yes;",
          "                                                      at N = 500 it saturates 2 cores)",
          "                    [--cost-one-rate yes|no]           also measure every participant announcing every 5 s",
          "                                                      throughout (default yes; at N = 500 it saturates 2 cores)",
          "                    [--simulation-sizes 10,100,1000,10000] [--simulation-cold-start-sizes 100,1000]",
          "                    [--simulation-mirror-sizes 50,200]   none for an empty list; a cold start of 3000",
          "                                                      needs BENCH_JAVA_OPTS=-Xmx16g",
          "  --smoke   tiny sizes, a few seconds each; writes bench/target/BENCHMARKS-smoke.md",
          "  --only    run only these benchmarks (default: all five)",
          "  --output  where to write the Markdown (default: BENCHMARKS.md in the repository root)");

  private Benchmarks() {}

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    if (options == null) {
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    long started = System.nanoTime();
    Map<String, String> sections = new LinkedHashMap<>();
    String machine;
    try (BenchDatabase db = BenchDatabase.start()) {
      machine = machine(db);
      String server =
          "PostgreSQL " + db.version() + (db.embedded() ? " (embedded)" : " (external)");
      if (options.only().contains("formation")) {
        section(
            sections,
            options,
            server,
            "Formation: launch to all Up, postgres vs config discovery",
            () ->
                FormationBenchmark.run(
                    db.url(),
                    db.user(),
                    db.password(),
                    options.nodeClasspath(),
                    options.smoke() ? new int[] {2} : options.formationSizes(),
                    options.smoke() ? 1 : options.formationPairs(),
                    options.formationProfiles()));
      }
      if (options.only().contains("convergence")) {
        ConvergenceBenchmark convergence =
            new ConvergenceBenchmark(db, Duration.ofSeconds(options.smoke() ? 1 : 5));
        section(
            sections,
            options,
            server,
            "Convergence: a new participant and everybody else",
            () ->
                options.smoke()
                    ? convergence.run(new int[] {5}, 3, 2)
                    : convergence.run(
                        options.convergenceSizes(),
                        30,
                        options.convergenceHeartbeatOnly() ? 10 : 0));
      }
      if (options.only().contains("coldstart")) {
        ConvergenceBenchmark convergence =
            new ConvergenceBenchmark(db, Duration.ofSeconds(options.smoke() ? 1 : 5));
        section(
            sections,
            options,
            server,
            "Cold start: N participants started at once",
            () ->
                convergence.coldStart(
                    options.smoke() ? new int[] {5} : options.coldStartSizes(),
                    Duration.ofSeconds(options.smoke() ? 30 : 120)));
      }
      if (options.only().contains("cost")) {
        DatabaseCostBenchmark cost = new DatabaseCostBenchmark(db);
        section(
            sections,
            options,
            server,
            "Database cost in steady state",
            () ->
                options.smoke()
                    ? cost.run(
                        new int[] {5},
                        new int[] {5},
                        true,
                        Duration.ofSeconds(1),
                        List.of(Duration.ZERO, Duration.ofSeconds(2)),
                        List.of(Duration.ofSeconds(1)),
                        Duration.ofSeconds(3))
                    : cost.run(
                        options.costSizes(),
                        options.costComparisonSizes(),
                        options.costOneRate(),
                        Duration.ofSeconds(5),
                        Arrays.stream(options.costJoinedSeconds())
                            .mapToObj(Duration::ofSeconds)
                            .toList(),
                        Arrays.stream(options.costConnectionChecks())
                            .mapToObj(Duration::ofSeconds)
                            .toList(),
                        Duration.ofSeconds(60)));
      }
      if (options.only().contains("simulation")) {
        section(
            sections,
            options,
            server,
            "Simulation: the protocol on a model of PostgreSQL, up to N = 10,000",
            () ->
                options.smoke()
                    ? new SimulationBenchmark()
                        .run(
                            new int[] {10},
                            1,
                            Duration.ofSeconds(60),
                            new int[] {10},
                            Duration.ofSeconds(60),
                            new int[] {10})
                    : new SimulationBenchmark()
                        .run(
                            options.simulationSizes(),
                            5,
                            Duration.ofSeconds(120),
                            options.simulationMirrorSizes(),
                            Duration.ofSeconds(60),
                            options.simulationColdStartSizes()));
      }
    }
    Path output = options.output();
    if (!options.smoke() && Files.exists(output)) {
      // A run of some benchmarks replaces their sections and keeps the others.
      Map<String, String> merged = sections(Files.readString(output));
      merged.putAll(sections);
      sections = merged;
    }
    StringBuilder md = new StringBuilder();
    md.append("# Benchmarks\n\n")
        .append("The current figures, each section written by the `bench/run.sh` command it names ")
        .append("(a run of some benchmarks, `--only`, replaces their sections here and keeps the ")
        .append("others). History is in git and CHANGELOG.md. Everything runs on one machine: the ")
        .append(
            "server, the benchmark and every participant share its cores, and other work on it ")
        .append("shows in the load average each section states.\n\n")
        .append(machine)
        .append('\n');
    for (String title : TITLES) {
      String body = sections.get(title);
      if (body != null) {
        md.append("## ").append(title).append("\n\n").append(body.strip()).append("\n\n");
      }
    }
    Files.createDirectories(output.toAbsolutePath().getParent());
    Files.writeString(output, md.toString());
    System.out.println(md);
    System.out.println(
        "Written to "
            + output
            + " in "
            + Duration.ofNanos(System.nanoTime() - started).toSeconds()
            + " s");
  }

  static final String FORMATION = "Formation: launch to all Up, postgres vs config discovery";
  static final String CONVERGENCE = "Convergence: a new participant and everybody else";
  static final String COLD_START = "Cold start: N participants started at once";
  static final String COST = "Database cost in steady state";
  static final String SIMULATION =
      "Simulation: the protocol on a model of PostgreSQL, up to N = 10,000";
  private static final List<String> TITLES =
      List.of(FORMATION, CONVERGENCE, COLD_START, COST, SIMULATION);

  /** What one benchmark returns: its Markdown. */
  interface Body {
    String get() throws Exception;
  }

  /**
   * Runs one benchmark and files its Markdown under {@code title}, headed by the command, commit,
   * date, server, load and duration of this run.
   */
  private static void section(
      Map<String, String> sections, Options options, String server, String title, Body body)
      throws Exception {
    double loadBefore = loadAverage();
    ZonedDateTime at = ZonedDateTime.now(ZoneOffset.UTC);
    long started = System.nanoTime();
    String text = body.get();
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
    String note =
        "*Command:* `"
            + options.command()
            + "` at commit "
            + commit()
            + ", "
            + at.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT))
            + " UTC; this section took "
            + (seconds >= 120 ? (seconds + 30) / 60 + " min" : seconds + " s")
            + ". "
            + Runtime.getRuntime().availableProcessors()
            + " cores shared by "
            + server
            + ", the benchmark and every participant; "
            + String.format(
                Locale.ROOT,
                "load average %.1f at the start, %.1f at the end",
                loadBefore,
                loadAverage())
            + ".";
    sections.put(title, note + "\n\n" + text.strip());
  }

  /** The sections of a file this class wrote: title to body, the header left out. */
  static Map<String, String> sections(String markdown) {
    Map<String, String> result = new LinkedHashMap<>();
    String title = null;
    StringBuilder body = new StringBuilder();
    for (String line : markdown.split("\n", -1)) {
      if (line.startsWith("## ")) {
        if (title != null) {
          result.put(title, body.toString());
        }
        title = line.substring(3).strip();
        body.setLength(0);
      } else if (title != null) {
        body.append(line).append('\n');
      }
    }
    if (title != null) {
      result.put(title, body.toString());
    }
    result.keySet().retainAll(TITLES);
    return result;
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /**
   * The repository's commit (with "+changes" if the work tree differs but in Markdown), or
   * "unknown".
   */
  private static String commit() {
    try {
      String root = System.getProperty("bench.root", ".");
      String head = git(root, "rev-parse", "--short", "HEAD");
      // Documentation (BENCHMARKS.md, which the benchmarks write, among it) does not count as a
      // change to what is measured.
      String changes =
          git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!*.md");
      return head.isEmpty() ? "unknown" : head + (changes.isEmpty() ? "" : "+changes");
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  private static String git(String root, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("git", "-C", root));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes()).strip();
    return process.waitFor() == 0 ? out : "";
  }

  private static String machine(BenchDatabase db) throws Exception {
    Runtime runtime = Runtime.getRuntime();
    return "| Machine | |\n|---|---|\n"
        + "| CPU | "
        + cpuModel()
        + ", "
        + runtime.availableProcessors()
        + " cores available |\n"
        + "| Memory | "
        + memory()
        + " |\n"
        + "| OS | "
        + System.getProperty("os.name")
        + " "
        + System.getProperty("os.version")
        + " ("
        + System.getProperty("os.arch")
        + ") |\n"
        + "| JDK | "
        + System.getProperty("java.vm.name")
        + " "
        + System.getProperty("java.runtime.version")
        + " |\n"
        + "| PostgreSQL | "
        + db.version()
        + (db.embedded() ? " (embedded, io.zonky, same machine)" : " (external)")
        + " |\n";
  }

  private static String cpuModel() {
    return firstValue("/proc/cpuinfo", "model name").orElse(System.getProperty("os.arch"));
  }

  private static String memory() {
    return firstValue("/proc/meminfo", "MemTotal")
        .map(
            kb ->
                String.format(
                    Locale.ROOT,
                    "%.1f GiB",
                    Long.parseLong(kb.replace("kB", "").trim()) / 1048576.0))
        .orElse("unknown");
  }

  private static java.util.Optional<String> firstValue(String file, String key) {
    try {
      return Files.readAllLines(Path.of(file)).stream()
          .filter(line -> line.startsWith(key))
          .map(line -> line.substring(line.indexOf(':') + 1).trim())
          .findFirst();
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  record Options(
      boolean smoke,
      Set<String> only,
      Path output,
      String nodeClasspath,
      String command,
      int[] formationSizes,
      int formationPairs,
      List<String> formationProfiles,
      int[] convergenceSizes,
      int[] costSizes,
      int[] costComparisonSizes,
      int[] costJoinedSeconds,
      boolean convergenceHeartbeatOnly,
      int[] costConnectionChecks,
      boolean costOneRate,
      int[] coldStartSizes,
      int[] simulationSizes,
      int[] simulationColdStartSizes,
      int[] simulationMirrorSizes) {

    static Options parse(String[] args) {
      boolean smoke = false;
      Set<String> only =
          new LinkedHashSet<>(
              List.of("formation", "convergence", "coldstart", "cost", "simulation"));
      Path output = null;
      String nodeClasspath = null;
      int[] formationSizes = {3, 10};
      int formationPairs = 5;
      List<String> formationProfiles = List.of("default", "tight");
      int[] convergenceSizes = {10, 50, 200, 500};
      int[] costSizes = {200, 500};
      // The comparison modes keep 500 participants announcing at once: minutes of a saturated
      // server on 2 cores before the first figure.
      int[] costComparisonSizes = {200};
      // 0: joined heartbeats off (the default), then a joined interval for comparison.
      int[] costJoinedSeconds = {0, 30};
      int[] coldStartSizes = {200, 500};
      boolean costOneRate = true;
      boolean convergenceHeartbeatOnly = true;
      int[] costConnectionChecks = {5};
      int[] simulationSizes = {10, 100, 1000, 10_000};
      // 3,000 takes minutes of one thread and about 7 GB of heap (N² table entries): an option.
      int[] simulationColdStartSizes = {100, 1000};
      int[] simulationMirrorSizes = {50, 200};
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--smoke" -> smoke = true;
          case "--only" -> {
            if (i + 1 >= args.length) {
              return null;
            }
            only = new LinkedHashSet<>(Arrays.asList(args[++i].split(",")));
            if (!Set.of("formation", "convergence", "coldstart", "cost", "simulation")
                .containsAll(only)) {
              return null;
            }
          }
          case "--output" -> {
            if (i + 1 >= args.length) {
              return null;
            }
            output = Path.of(args[++i]);
          }
          case "--cost-one-rate", "--convergence-heartbeat-only" -> {
            if (i + 1 >= args.length || !args[i + 1].matches("yes|no")) {
              return null;
            }
            boolean yes = args[i + 1].equals("yes");
            if (args[i].equals("--cost-one-rate")) {
              costOneRate = yes;
            } else {
              convergenceHeartbeatOnly = yes;
            }
            i++;
          }
          case "--formation-sizes",
              "--convergence-sizes",
              "--cost-sizes",
              "--cost-comparison-sizes",
              "--cost-joined-heartbeats",
              "--cost-connection-checks",
              "--cold-start-sizes",
              "--simulation-sizes",
              "--simulation-cold-start-sizes",
              "--simulation-mirror-sizes" -> {
            if (i + 1 >= args.length || !args[i + 1].matches("none|\\d+(,\\d+)*")) {
              return null;
            }
            int[] sizes =
                args[i + 1].equals("none")
                    ? new int[0]
                    : Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
            switch (args[i]) {
              case "--formation-sizes" -> formationSizes = sizes;
              case "--cost-sizes" -> costSizes = sizes;
              case "--cost-comparison-sizes" -> costComparisonSizes = sizes;
              case "--cost-joined-heartbeats" -> costJoinedSeconds = sizes;
              case "--cost-connection-checks" -> costConnectionChecks = sizes;
              case "--cold-start-sizes" -> coldStartSizes = sizes;
              case "--simulation-sizes" -> simulationSizes = sizes;
              case "--simulation-cold-start-sizes" -> simulationColdStartSizes = sizes;
              case "--simulation-mirror-sizes" -> simulationMirrorSizes = sizes;
              default -> convergenceSizes = sizes;
            }
            i++;
          }
          case "--formation-pairs" -> {
            if (i + 1 >= args.length || !args[i + 1].matches("[1-9]\\d*")) {
              return null;
            }
            formationPairs = Integer.parseInt(args[++i]);
          }
          case "--formation-profiles" -> {
            if (i + 1 >= args.length
                || !args[i + 1].matches("(default|tight)(,(default|tight))*")) {
              return null;
            }
            formationProfiles = List.of(args[++i].split(","));
          }
          case "--node-classpath" -> {
            if (i + 1 >= args.length) {
              return null;
            }
            nodeClasspath = args[++i];
          }
          default -> {
            return null;
          }
        }
      }
      String root = System.getProperty("bench.root", ".");
      if (output == null) {
        output =
            smoke
                ? Path.of(root, "bench", "target", "BENCHMARKS-smoke.md")
                : Path.of(root, "BENCHMARKS.md");
      }
      StringBuilder command = new StringBuilder("bench/run.sh");
      for (String arg : args) {
        if (!arg.contains("/target/")) {
          command.append(' ').append(arg);
        }
      }
      return new Options(
          smoke,
          only,
          output,
          nodeClasspath,
          command.toString().replace(" --node-classpath", ""),
          formationSizes,
          formationPairs,
          formationProfiles,
          convergenceSizes,
          costSizes,
          costComparisonSizes,
          costJoinedSeconds,
          convergenceHeartbeatOnly,
          costConnectionChecks,
          costOneRate,
          coldStartSizes,
          simulationSizes,
          simulationColdStartSizes,
          simulationMirrorSizes);
    }
  }
}
