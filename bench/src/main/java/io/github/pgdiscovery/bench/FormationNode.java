package io.github.pgdiscovery.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One sample node JVM launched by {@link FormationBenchmark}, with its output in its own log file.
 */
final class FormationNode {

  static final String HOST = "127.0.0.1";

  /** The sample's actor system name, which is also the service name Bootstrap looks up. */
  static final String SYSTEM_NAME = "sample";

  /**
   * Every node process still running, so a benchmark stopped with Ctrl-C does not leave JVMs behind
   * that would keep the ports and the CPU busy.
   */
  private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "formation-nodes-kill"));
  }

  private final int index;
  private final int remotingPort;
  private final int managementPort;
  private final Path logFile;
  private Process process;

  FormationNode(int index, int remotingPort, int managementPort, Path logFile) {
    this.index = index;
    this.remotingPort = remotingPort;
    this.managementPort = managementPort;
    this.logFile = logFile;
  }

  String name() {
    return "node-" + index;
  }

  int managementPort() {
    return managementPort;
  }

  int remotingPort() {
    return remotingPort;
  }

  Path logFile() {
    return logFile;
  }

  /** The Akka address the node will have, as /cluster/members reports it. */
  String address() {
    return "akka://" + SYSTEM_NAME + "@" + HOST + ":" + remotingPort;
  }

  URI membersUri() {
    return URI.create("http://" + HOST + ":" + managementPort + "/cluster/members");
  }

  /**
   * Starts the JVM. The node's own variables are set here, on top of this JVM's environment, so
   * that values left in the caller's environment (a NODE_MANAGEMENT_PORT, say) cannot leak in; a
   * null value removes a variable.
   */
  void start(List<String> command, int requiredContactPoints, Map<String, String> extraEnv)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    env.put("NODE_HOSTNAME", HOST);
    env.put("NODE_REMOTING_PORT", Integer.toString(remotingPort));
    env.put("NODE_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("REQUIRED_CONTACT_POINT_NR", Integer.toString(requiredContactPoints));
    extraEnv.forEach(
        (name, value) -> {
          if (value == null) {
            env.remove(name);
          } else {
            env.put(name, value);
          }
        });
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile()));
    process = builder.start();
    RUNNING.add(process);
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  int exitCode() {
    return process.exitValue();
  }

  /** SIGTERM: the node runs Akka's coordinated shutdown and leaves the cluster. */
  void stop() {
    if (isAlive()) {
      process.destroy();
    }
  }

  void kill() {
    if (isAlive()) {
      process.destroyForcibly();
    }
  }

  /** Waits up to {@code millis} for the process to end; true when it has. */
  boolean awaitExit(long millis) throws InterruptedException {
    if (process == null) {
      return true;
    }
    boolean exited = process.waitFor(Math.max(0, millis), TimeUnit.MILLISECONDS);
    if (exited) {
      RUNNING.remove(process);
    }
    return exited;
  }
}
