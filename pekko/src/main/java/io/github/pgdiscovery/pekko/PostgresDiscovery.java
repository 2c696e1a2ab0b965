package io.github.pgdiscovery.pekko;

import org.apache.pekko.Done;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.ExtensionId;
import org.apache.pekko.actor.ExtensionIdProvider;
import org.apache.pekko.management.PekkoManagementSettings;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrapSettings;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.SelfAnnouncement;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Owns the discovery engine of one actor system: one Postgres connection, one thread, one announcement. Created on
 * first use (when Pekko loads the {@code postgres} discovery method); it then announces this node's Pekko Management
 * endpoint under the service name Cluster Bootstrap looks up, stops announcing when the cluster removes this node,
 * and says goodbye on coordinated shutdown.
 */
public final class PostgresDiscovery implements Extension {

  /** Shutdown waits at most this long for the goodbye, well inside the phase's default 5 s timeout. */
  private static final long GOODBYE_WAIT_MILLIS = 3000;

  public static final Id ID = new Id();

  /** The extension id; {@code PostgresDiscovery.get(system)} is the usual way in. */
  public static final class Id extends AbstractExtensionId<PostgresDiscovery> implements ExtensionIdProvider {
    private Id() {}

    @Override
    public PostgresDiscovery createExtension(ExtendedActorSystem system) {
      try {
        return new PostgresDiscovery(system);
      } catch (RuntimeException | Error e) {
        StartFailure.ID.get(system).failure = e;
        throw e;
      }
    }

    @Override
    public ExtensionId<? extends Extension> lookup() {
      return ID;
    }
  }

  public static PostgresDiscovery get(ActorSystem system) {
    return ID.get(system);
  }

  public static PostgresDiscovery get(ClassicActorSystemProvider system) {
    return ID.get(system.classicSystem());
  }

  /**
   * Why this actor system's extension could not be created, if it could not. Pekko rethrows that failure to every
   * later caller of {@link #get} but offers no way to ask for it, and asking must not start discovery.
   */
  static Optional<Throwable> startFailure(ActorSystem system) {
    return Optional.ofNullable(StartFailure.ID.get(system).failure);
  }

  /** Per actor system, the failure {@link Id} met creating the extension; its own creation cannot fail. */
  private static final class StartFailure implements Extension {
    static final AbstractExtensionId<StartFailure> ID =
        new AbstractExtensionId<>() {
          @Override
          public StartFailure createExtension(ExtendedActorSystem system) {
            return new StartFailure();
          }
        };

    volatile Throwable failure;
  }

  private final PostgresDiscoverySettings settings;
  private final DiscoveryEngine engine;

  /**
   * Everything that stops the engine again (coordinated shutdown, termination, cluster removal) is in place before
   * the engine starts, and the engine starts last: a step that fails leaves no engine announcing for an actor
   * system that cannot use it, or that may already be gone.
   */
  private PostgresDiscovery(ExtendedActorSystem system) {
    settings = PostgresDiscoverySettings.fromConfig(system.settings().config());
    Announcement self = selfAnnouncement(system);
    engine = new DiscoveryEngine(settings.discovery(), self);
    ActorRef membership = null;
    try {
      CoordinatedShutdown.get(system)
          .addTask(
              CoordinatedShutdown.PhaseBeforeServiceUnbind(),
              "pekko-discovery-postgres-goodbye",
              () -> engine.shutdown().copy()
                  .completeOnTimeout(null, GOODBYE_WAIT_MILLIS, TimeUnit.MILLISECONDS)
                  .thenApply(stopped -> Done.getInstance()));
      // Without coordinated shutdown (terminate() called directly) the connection still closes.
      system.registerOnTermination(engine::shutdown);
      if (isClusterProvider(system)) {
        membership = system.systemActorOf(ClusterMembershipListener.props(engine), "postgresDiscoveryMembership");
      }
      engine.start();
    } catch (RuntimeException | Error e) {
      // Nothing else stops it once this constructor has failed; the tasks registered above find it stopped.
      engine.shutdown();
      if (membership != null) {
        system.stop(membership);
      }
      throw e;
    }
  }

  public DiscoveryEngine engine() {
    return engine;
  }

  public PostgresDiscoverySettings settings() {
    return settings;
  }

  /** Stops announcing and says goodbye; the node keeps listening. Cluster removal of this node calls it. */
  public void stopAnnouncing() {
    engine.stopAnnouncing();
  }

  /**
   * The configured management hostname and port: Bootstrap compares the contact points it discovers with exactly
   * these to recognise itself, so announcing anything else (the bound port, a resolved address) would keep the
   * lowest-address node from forming the cluster.
   */
  private static Announcement selfAnnouncement(ExtendedActorSystem system) {
    PekkoManagementSettings management = new PekkoManagementSettings(system.settings().config());
    String host = management.getHttpHostname();
    int port = management.getHttpPort();
    ClusterBootstrapSettings bootstrap = new ClusterBootstrapSettings(system.settings().config(), system.log());
    String service = bootstrap.getContactPointDiscoveryEffectiveName(system);
    String address = system.provider().getDefaultAddress().toString();
    // The cluster's uid for this actor system, so that MemberRemoved retires exactly this incarnation.
    long uid = isClusterProvider(system) ? org.apache.pekko.cluster.Cluster.get(system).selfUniqueAddress().longUid() : 0;
    return SelfAnnouncement.of(service, host, port, address, uid, "pekko.management.http");
  }

  private static boolean isClusterProvider(ExtendedActorSystem system) {
    return system.provider() instanceof org.apache.pekko.cluster.ClusterActorRefProvider;
  }
}
