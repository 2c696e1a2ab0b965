package io.github.pgdiscovery.sample;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a sample node starts, the same for the Akka and the Pekko node: check the configuration and
 * say what the node will do, start the actor system, then the membership log, Management and
 * Cluster Bootstrap. A node that cannot start exits with 1 instead of living on half started. A
 * subclass names the toolkit's own calls; {@code S} is its actor system.
 */
public abstract class NodeStart<S> {

  /** The actor system name, which makes "sample" the service name Bootstrap looks up. */
  public static final String SYSTEM_NAME = "sample";

  private final Logger log;
  private final String root;
  private final String toolkit;

  /**
   * @param node the node's main class, which names the log lines
   * @param root the toolkit's configuration root, {@code akka} or {@code pekko}
   * @param toolkit the toolkit's name as the log shows it, {@code Akka} or {@code Pekko}
   */
  protected NodeStart(Class<?> node, String root, String toolkit) {
    this.log = LoggerFactory.getLogger(node);
    this.root = root;
    this.toolkit = toolkit;
  }

  /** The actor system named {@link #SYSTEM_NAME}, with {@code config}. */
  protected abstract S createSystem(Config config) throws Exception;

  /**
   * Starts the actor that logs membership changes, given the number of Up members that make a
   * formed cluster.
   */
  protected abstract void startMembershipLog(S system, int requiredUp);

  /** Starts Management; the stage fails when its HTTP endpoint did not start. */
  protected abstract CompletionStage<?> startManagement(S system);

  /**
   * Starts Cluster Bootstrap, which loads the discovery method; a bad discovery setting throws
   * here.
   */
  protected abstract void startBootstrap(S system);

  /**
   * Runs coordinated shutdown with the reason that the node's configuration maps to exit code 1.
   */
  protected abstract void stopFailed(S system);

  /**
   * The configuration key of the number of contact points Bootstrap waits for before it forms a new
   * cluster.
   */
  public static String requiredContactPointNr(String root) {
    return root + ".management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr";
  }

  /** CPU time of this process so far, every thread's; -1 where the JVM does not say. */
  private static long processCpuMillis() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      long nanos = os.getProcessCpuTime();
      return nanos < 0 ? -1 : nanos / 1_000_000;
    }
    return -1;
  }

  /** When this JVM started, as the JVM itself recorded it. */
  private static long jvmStartMillis() {
    return java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
  }

  /**
   * Starts the node with the configuration {@code config} gives; on failure, logs why and ends the
   * JVM with 1.
   */
  public final void run(Supplier<Config> config) {
    Config checked;
    int requiredUp;
    try {
      checked = config.get();
      requiredUp = checked.getInt(requiredContactPointNr(root));
      log.info(
          "Starting {} node: remoting {}:{}, management {}:{}, forming a new cluster needs {} nodes",
          toolkit,
          checked.getString(root + ".remote.artery.canonical.hostname"),
          checked.getInt(root + ".remote.artery.canonical.port"),
          checked.getString(root + ".management.http.hostname"),
          checked.getInt(root + ".management.http.port"),
          requiredUp);
    } catch (ConfigException e) {
      log.error("Not starting, the configuration is invalid: {}", e.getMessage());
      System.exit(1);
      return;
    }

    S system;
    try {
      system = createSystem(checked);
    } catch (Exception e) {
      // Typically the remoting port is taken. Exception, not RuntimeException: Scala code can throw
      // checked
      // exceptions (a TimeoutException from an Await) that Java does not see declared. The
      // toolkit's own shutdown
      // would end the JVM with 0; exiting first with 1 tells whoever started the node that it
      // failed.
      log.error("Not starting, the actor system did not start: {}", e.toString());
      System.exit(1);
      return;
    }
    try {
      startMembershipLog(system, requiredUp);
      CompletableFuture<Object> management = new CompletableFuture<>();
      startManagement(system)
          .whenComplete(
              (uri, error) -> {
                if (error != null) {
                  // Without its management endpoint no node can probe this one, so it could never
                  // take part in Bootstrap.
                  log.error("{} Management did not start, stopping this node", toolkit, error);
                  stopFailed(system);
                } else {
                  management.complete(uri);
                }
              });
      startBootstrap(system);
      // Started: Management answers and Bootstrap runs. One line with the wall clock, which the
      // formation benchmark reads to compare how long nodes of two discovery methods take to start.
      management.thenRun(
          () -> {
            long now = System.currentTimeMillis();
            log.info(
                "STARTED at {} ms since the epoch, {} ms after the JVM started, {} ms of CPU",
                now,
                now - jvmStartMillis(),
                processCpuMillis());
          });
    } catch (ConfigException e) {
      log.error("Stopping this node, the configuration is invalid: {}", e.getMessage());
      stopFailed(system);
    } catch (Exception e) {
      // The actor system runs on its own threads: without this the node would live on half started.
      log.error("Stopping this node, it did not start", e);
      stopFailed(system);
    }
  }
}
