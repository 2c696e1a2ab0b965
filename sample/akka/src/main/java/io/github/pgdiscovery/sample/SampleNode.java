package io.github.pgdiscovery.sample;

import akka.actor.ActorSystem;
import akka.actor.CoordinatedShutdown;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * One Akka cluster node: an actor system named {@value NodeStart#SYSTEM_NAME} (which makes "sample"
 * the service name Bootstrap looks up) with Akka Management and Cluster Bootstrap using the {@code
 * postgres} discovery method. Configured by {@code application.conf} and the environment variables
 * it names.
 */
public final class SampleNode extends NodeStart<ActorSystem> {

  static final String CONFIG_RESOURCE = "application.conf";

  private SampleNode() {
    super(SampleNode.class, "akka", "Akka");
  }

  public static void main(String[] args) {
    new SampleNode().run(() -> config(System.getenv()));
  }

  /**
   * The node's configuration, from {@code application.conf} with {@code ${?VAR}} taken from {@code
   * env}.
   */
  static Config config(Map<String, String> env) {
    return NodeConfig.load(SampleNode.class.getClassLoader(), CONFIG_RESOURCE, env);
  }

  @Override
  protected ActorSystem createSystem(Config config) {
    return ActorSystem.create(SYSTEM_NAME, config);
  }

  @Override
  protected void startMembershipLog(ActorSystem system, int requiredUp) {
    system.actorOf(MembershipLog.props(requiredUp), "membershipLog");
  }

  @Override
  protected CompletionStage<?> startManagement(ActorSystem system) {
    return AkkaManagement.get(system).start();
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
   * Coordinated shutdown reason of a node that did not start; application.conf maps it to exit code
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
