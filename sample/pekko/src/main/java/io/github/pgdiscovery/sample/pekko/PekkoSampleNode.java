package io.github.pgdiscovery.sample.pekko;

import com.typesafe.config.Config;
import io.github.pgdiscovery.sample.NodeConfig;
import io.github.pgdiscovery.sample.NodeStart;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * One Apache Pekko cluster node: an actor system named {@value NodeStart#SYSTEM_NAME} with Pekko
 * Management and Cluster Bootstrap using the {@code postgres} discovery method of
 * pekko-discovery-postgres. Configured by {@code pekko-node.conf} and the environment variables it
 * names; the Akka node's {@code application.conf}, on the same class path, is not read.
 */
public final class PekkoSampleNode extends NodeStart<ActorSystem> {

  static final String CONFIG_RESOURCE = "pekko-node.conf";

  private PekkoSampleNode() {
    super(PekkoSampleNode.class, "pekko", "Pekko");
  }

  public static void main(String[] args) {
    new PekkoSampleNode().run(() -> config(System.getenv()));
  }

  /**
   * The node's configuration, from {@code pekko-node.conf} with {@code ${?VAR}} taken from {@code
   * env}.
   */
  static Config config(Map<String, String> env) {
    return NodeConfig.load(PekkoSampleNode.class.getClassLoader(), CONFIG_RESOURCE, env);
  }

  @Override
  protected ActorSystem createSystem(Config config) {
    return ActorSystem.create(SYSTEM_NAME, config);
  }

  @Override
  protected void startMembershipLog(ActorSystem system, int requiredUp) {
    system.actorOf(PekkoMembershipLog.props(requiredUp), "membershipLog");
  }

  @Override
  protected CompletionStage<?> startManagement(ActorSystem system) {
    return PekkoManagement.get(system).start();
  }

  @Override
  protected void startBootstrap(ActorSystem system) {
    ClusterBootstrap.get(system).start();
  }

  @Override
  protected void stopFailed(ActorSystem system) {
    CoordinatedShutdown.get(system).run(StartFailed.INSTANCE);
  }

  /**
   * Coordinated shutdown reason of a node that did not start; pekko-node.conf maps it to exit code
   * 1, so whoever started the node sees that it failed.
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
