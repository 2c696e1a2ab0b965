package io.github.pgdiscovery.pekko;

import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.EngineStartup;
import io.github.pgdiscovery.core.SelfAnnouncement;
import io.github.pgdiscovery.core.protocol.Announcement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
import org.apache.pekko.annotation.InternalApi;
import org.apache.pekko.management.PekkoManagementSettings;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrapSettings;

/**
 * Owns the discovery engine of one actor system: one Postgres connection, one thread, one
 * announcement. Created on first use (when Pekko loads the {@code postgres} discovery method); it
 * then announces this node's Pekko Management endpoint under the service name Cluster Bootstrap
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
                  "pekko-discovery-postgres-goodbye",
                  () ->
                      engine
                          .shutdown()
                          .copy()
                          .completeOnTimeout(null, GOODBYE_WAIT_MILLIS, TimeUnit.MILLISECONDS)
                          .thenApply(stopped -> Done.getInstance()));
          // Without coordinated shutdown (terminate() called directly) the connection still closes.
          system.registerOnTermination(engine::shutdown);
          if (system.provider() instanceof org.apache.pekko.cluster.ClusterActorRefProvider) {
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
    PekkoManagementSettings management = new PekkoManagementSettings(system.settings().config());
    ClusterBootstrapSettings bootstrap =
        new ClusterBootstrapSettings(system.settings().config(), system.log());
    // The cluster's uid for this actor system, so that MemberRemoved retires exactly this
    // incarnation.
    long uid =
        system.provider() instanceof org.apache.pekko.cluster.ClusterActorRefProvider
            ? org.apache.pekko.cluster.Cluster.get(system).selfUniqueAddress().longUid()
            : 0;
    return SelfAnnouncement.of(
        bootstrap.getContactPointDiscoveryEffectiveName(system),
        management.getHttpHostname(),
        management.getHttpPort(),
        system.provider().getDefaultAddress().toString(),
        uid,
        "pekko.management.http");
  }
}
