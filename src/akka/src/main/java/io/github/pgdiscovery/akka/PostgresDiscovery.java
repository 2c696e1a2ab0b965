package io.github.pgdiscovery.akka;

import akka.Done;
import akka.actor.AbstractExtensionId;
import akka.actor.ActorRef;
import akka.actor.ActorSystem;
import akka.actor.ClassicActorSystemProvider;
import akka.actor.CoordinatedShutdown;
import akka.actor.ExtendedActorSystem;
import akka.actor.Extension;
import akka.actor.ExtensionId;
import akka.actor.ExtensionIdProvider;
import akka.annotation.InternalApi;
import akka.management.AkkaManagementSettings;
import akka.management.cluster.bootstrap.ClusterBootstrapSettings;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.EngineStartup;
import io.github.pgdiscovery.core.SelfAnnouncement;
import io.github.pgdiscovery.core.protocol.Announcement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Owns the discovery engine of one actor system: one Postgres connection, one thread, one
 * announcement. Created on first use (when Akka loads the {@code postgres} discovery method); it
 * then announces this node's Akka Management endpoint under the service name Cluster Bootstrap
 * looks up, stops announcing when the cluster removes this node, and says goodbye on coordinated
 * shutdown.
 */
@InternalApi
public final class PostgresDiscovery implements Extension {

  /**
   * Shutdown waits at most this long for the goodbye, well inside the phase's default 5 s timeout.
   */
  private static final long GOODBYE_WAIT_MILLIS = 3000;

  public static final Id ID = new Id();

  /** The extension id; {@code PostgresDiscovery.get(system)} is the usual way in. */
  public static final class Id extends AbstractExtensionId<PostgresDiscovery>
      implements ExtensionIdProvider {
    private Id() {}

    @Override
    public PostgresDiscovery createExtension(ExtendedActorSystem system) {
      return EngineStartup.recordingFailure(system, () -> new PostgresDiscovery(system));
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

  private final PostgresDiscoverySettings settings;
  private final DiscoveryEngine engine;

  private PostgresDiscovery(ExtendedActorSystem system) {
    settings = PostgresDiscoverySettings.fromConfig(system.settings().config());
    engine = new DiscoveryEngine(settings.discovery(), selfAnnouncement(system));
    AtomicReference<ActorRef> membership = new AtomicReference<>();
    EngineStartup.start(
        engine,
        () -> {
          CoordinatedShutdown.get(system)
              .addTask(
                  CoordinatedShutdown.PhaseBeforeServiceUnbind(),
                  "akka-discovery-postgres-goodbye",
                  () ->
                      engine
                          .shutdown()
                          .copy()
                          .completeOnTimeout(null, GOODBYE_WAIT_MILLIS, TimeUnit.MILLISECONDS)
                          .thenApply(stopped -> Done.getInstance()));
          // Without coordinated shutdown (terminate() called directly) the connection still closes.
          system.registerOnTermination(engine::shutdown);
          if (system.provider() instanceof akka.cluster.ClusterActorRefProvider) {
            membership.set(
                system.systemActorOf(
                    ClusterMembershipListener.props(engine), "postgresDiscoveryMembership"));
          }
        },
        () -> {
          if (membership.get() != null) {
            system.stop(membership.get());
          }
        });
  }

  public DiscoveryEngine engine() {
    return engine;
  }

  public PostgresDiscoverySettings settings() {
    return settings;
  }

  /**
   * Stops announcing and says goodbye; the node keeps listening. Cluster removal of this node calls
   * it.
   */
  public void stopAnnouncing() {
    engine.stopAnnouncing();
  }

  private static Announcement selfAnnouncement(ExtendedActorSystem system) {
    AkkaManagementSettings management = new AkkaManagementSettings(system.settings().config());
    ClusterBootstrapSettings bootstrap =
        new ClusterBootstrapSettings(system.settings().config(), system.log());
    // The cluster's uid for this actor system, so that MemberRemoved retires exactly this
    // incarnation.
    long uid =
        system.provider() instanceof akka.cluster.ClusterActorRefProvider
            ? akka.cluster.Cluster.get(system).selfUniqueAddress().longUid()
            : 0;
    return SelfAnnouncement.of(
        bootstrap.getContactPointDiscoveryEffectiveName(system),
        management.getHttpHostname(),
        management.getHttpPort(),
        system.provider().getDefaultAddress().toString(),
        uid,
        "akka.management.http");
  }
}
