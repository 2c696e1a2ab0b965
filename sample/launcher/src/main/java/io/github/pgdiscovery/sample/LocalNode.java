package io.github.pgdiscovery.sample;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One sample node JVM (Akka or Pekko) started by {@link LocalCluster}, with its output in its own
 * log file.
 */
final class LocalNode {

  static final String HOST = "127.0.0.1";

  private final Toolkit toolkit;
  private final int index;
  private final int remotingPort;
  private final int managementPort;
  private final Path logFile;
  private Process process;

  LocalNode(Toolkit toolkit, int index, int remotingPort, int managementPort, Path logFile) {
    this.toolkit = toolkit;
    this.index = index;
    this.remotingPort = remotingPort;
    this.managementPort = managementPort;
    this.logFile = logFile;
  }

  String name() {
    return "node-" + index;
  }

  /**
   * The actor address the node will have, as Management reports it ({@code
   * akka://sample@127.0.0.1:25520}).
   */
  String address() {
    return toolkit.protocol() + "://" + NodeStart.SYSTEM_NAME + "@" + HOST + ":" + remotingPort;
  }

  String managementUrl() {
    return "http://" + HOST + ":" + managementPort;
  }

  URI membersUri() {
    return URI.create(managementUrl() + "/cluster/members");
  }

  Path logFile() {
    return logFile;
  }

  /**
   * Starts the JVM with the given environment on top of this one's. The node's own settings are set
   * here so that values left in the caller's environment (a NODE_MANAGEMENT_PORT, say) cannot leak
   * in.
   */
  void start(List<String> command, int requiredContactPoints, Map<String, String> databaseEnv)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    env.put("NODE_HOSTNAME", HOST);
    env.put("NODE_REMOTING_PORT", Integer.toString(remotingPort));
    env.put("NODE_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("REQUIRED_CONTACT_POINT_NR", Integer.toString(requiredContactPoints));
    for (Map.Entry<String, String> entry : databaseEnv.entrySet()) {
      if (entry.getValue() == null) {
        env.remove(entry.getKey());
      } else {
        env.put(entry.getKey(), entry.getValue());
      }
    }
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile()));
    process = builder.start();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** Exit code of a process that has ended. */
  int exitCode() {
    return process.exitValue();
  }

  long pid() {
    return process.pid();
  }

  /** SIGTERM on Unix: the JVM runs coordinated shutdown, so the node leaves and says goodbye. */
  void stopGracefully() {
    if (isAlive()) {
      process.destroy();
    }
  }

  /** Waits up to {@code millis} for the process to end; true when it has. */
  boolean awaitExit(long millis) throws InterruptedException {
    return process == null || process.waitFor(Math.max(0, millis), TimeUnit.MILLISECONDS);
  }

  void kill() {
    if (isAlive()) {
      process.destroyForcibly();
    }
  }

  /**
   * The last {@code count} lines of the node's log for a failure message, without stack frames:
   * they would crowd out the lines that say what happened, and the log file keeps them.
   */
  List<String> logTail(int count) {
    try {
      // Lenient decoding: a truncated multi-byte character must not hide the rest of the log.
      String text = new String(Files.readAllBytes(logFile), StandardCharsets.UTF_8);
      List<String> lines = new ArrayList<>();
      for (String line : text.split("\\R")) {
        String trimmed = line.strip();
        if (!trimmed.startsWith("at ")
            && !(trimmed.startsWith("... ") && trimmed.endsWith(" more"))) {
          lines.add(line);
        }
      }
      return lines.subList(Math.max(0, lines.size() - count), lines.size());
    } catch (IOException e) {
      return List.of("(could not read " + logFile + ": " + e.getMessage() + ")");
    }
  }
}
