package io.github.pgdiscovery.sample;

import akka.actor.ActorSystem;
import akka.actor.CoordinatedShutdown;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValueFactory;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster node: an actor system named {@value #SYSTEM_NAME} (which makes "sample" the service name Bootstrap
 * looks up) with Akka Management and Cluster Bootstrap using the {@code postgres} discovery method. Configured by
 * {@code application.conf} and the environment variables it names.
 */
public final class SampleNode {

  static final String SYSTEM_NAME = "sample";
  static final String REQUIRED_CONTACT_POINT_NR =
      "akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr";

  private static final Logger log = LoggerFactory.getLogger(SampleNode.class);

  private SampleNode() {}

  public static void main(String[] args) {
    Config config;
    try {
      config = config(System.getenv());
      log.info(
          "Starting node: remoting {}:{}, management {}:{}, forming a new cluster needs {} nodes",
          config.getString("akka.remote.artery.canonical.hostname"),
          config.getInt("akka.remote.artery.canonical.port"),
          config.getString("akka.management.http.hostname"),
          config.getInt("akka.management.http.port"),
          config.getInt(REQUIRED_CONTACT_POINT_NR));
    } catch (ConfigException e) {
      log.error("Not starting, the configuration is invalid: {}", e.getMessage());
      System.exit(1);
      return;
    }

    ActorSystem system;
    try {
      system = ActorSystem.create(SYSTEM_NAME, config);
    } catch (Exception e) {
      // Typically the remoting port is taken. Exception, not RuntimeException: Scala code can throw checked
      // exceptions (a TimeoutException from an Await) that Java does not see declared. Akka's own shutdown would end the JVM with 0; exiting first with 1
      // tells whoever started the node that it failed.
      log.error("Not starting, the actor system did not start: {}", e.toString());
      System.exit(1);
      return;
    }
    try {
      system.actorOf(MembershipLog.props(config.getInt(REQUIRED_CONTACT_POINT_NR)), "membershipLog");
      AkkaManagement.get(system)
          .start()
          .whenComplete(
              (uri, error) -> {
                if (error != null) {
                  // Without its management endpoint no node can probe this one, so it could never take part
                  // in Bootstrap.
                  log.error("Akka Management did not start, stopping this node", error);
                  CoordinatedShutdown.get(system).run(StartFailed.INSTANCE);
                }
              });
      // Loads the discovery method, which reads and checks akka.discovery.postgres: a bad value throws here.
      ClusterBootstrap.get(system).start();
    } catch (ConfigException e) {
      log.error("Stopping this node, the configuration is invalid: {}", e.getMessage());
      CoordinatedShutdown.get(system).run(StartFailed.INSTANCE);
    } catch (Exception e) {
      // The actor system runs on its own threads: without this the node would live on half started.
      log.error("Stopping this node, it did not start", e);
      CoordinatedShutdown.get(system).run(StartFailed.INSTANCE);
    }
  }

  /**
   * The node's configuration: system properties, then {@code application.conf}, then every {@code reference.conf},
   * with {@code ${?VAR}} substitutions taken from {@code env} instead of the process environment, so tests can
   * check what a node resolves for a given environment.
   */
  static Config config(Map<String, String> env) {
    ClassLoader loader = SampleNode.class.getClassLoader();
    Config unresolved =
        ConfigFactory.defaultOverrides(loader)
            .withFallback(
                ConfigFactory.parseResources(
                    loader, "application.conf", ConfigParseOptions.defaults().setAllowMissing(false)))
            .withFallback(ConfigFactory.defaultReferenceUnresolved(loader));
    // The variables go below everything at the root, where ${?VAR} looks for them, and are taken out again after
    // resolving. (resolveWith(a separate source) would be neater, but it breaks on reference.conf's
    // self-referencing substitutions such as ${akka.cluster.distributed-data}.)
    ConfigObject environment = ConfigValueFactory.fromMap(env, "environment variables");
    ConfigObject resolved =
        unresolved
            .withFallback(environment)
            .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false))
            .root();
    for (String name : environment.keySet()) {
      if (!unresolved.root().containsKey(name)) {
        resolved = resolved.withoutKey(name);
      }
    }
    return resolved.toConfig();
  }

  /**
   * Coordinated shutdown reason of a node that did not start; application.conf maps it to exit code 1, so whoever
   * started the node sees that it failed.
   */
  static final class StartFailed implements CoordinatedShutdown.Reason {
    static final StartFailed INSTANCE = new StartFailed();

    private StartFailed() {}

    @Override
    public String toString() {
      return "StartFailed";
    }
  }
}
