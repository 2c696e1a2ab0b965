package io.github.pgdiscovery.pekko;

import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.annotation.InternalApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts discovery when the actor system starts, listed in reference.conf under {@code
 * pekko.library-extensions}, if Cluster Bootstrap's discovery method is {@code postgres} and {@code
 * pekko.discovery.postgres.start-with-actor-system} is on. The node then announces itself seconds
 * before {@code ClusterBootstrap.start()}, while the rest of the application starts, and the other
 * nodes' Bootstrap, whose stable margin restarts whenever a contact point appears, settles sooner.
 *
 * <p>The start runs on a short-lived thread of its own, {@value #THREAD_NAME}: reading the
 * settings, building the protocol (its JSON codec) and loading the driver take a few hundred
 * milliseconds of class loading on a busy machine, which the actor system's own start, and the
 * node's Management and Bootstrap after it, need not wait for. {@code ClusterBootstrap.start()}
 * waits for that start if it is still running, as for any extension being created.
 *
 * <p>It never fails the actor system's start: a bad setting is recorded, and {@code
 * ClusterBootstrap.start()} (the first use of the method) throws it naming the key, as without this
 * extension.
 */
@InternalApi
public final class PostgresDiscoveryEarlyStart
    extends AbstractExtensionId<PostgresDiscoveryEarlyStart.Started> {

  private static final Logger log = LoggerFactory.getLogger(PostgresDiscoveryEarlyStart.class);

  /** The thread that starts discovery beside the actor system's start. */
  public static final String THREAD_NAME = "pekko-discovery-postgres-start";

  /** Whether discovery's start was begun with the actor system. */
  public record Started(boolean started) implements Extension {}

  /** Pekko creates it by name from {@code pekko.library-extensions}. */
  public PostgresDiscoveryEarlyStart() {}

  @Override
  public Started createExtension(ExtendedActorSystem system) {
    if (!PostgresDiscoverySettings.startsWithActorSystem(system.settings().config())) {
      return new Started(false);
    }
    Thread starter =
        new Thread(
            () -> {
              try {
                PostgresDiscovery.get(system);
              } catch (RuntimeException e) {
                log.debug(
                    "PostgreSQL discovery did not start with the actor system; its first use reports why",
                    e);
              }
            },
            THREAD_NAME);
    // Never keeps the JVM alive: a system terminated meanwhile leaves nothing to start.
    starter.setDaemon(true);
    starter.start();
    return new Started(true);
  }
}
