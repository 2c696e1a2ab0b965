package io.github.pgdiscovery.akka;

import akka.actor.AbstractExtensionId;
import akka.actor.ExtendedActorSystem;
import akka.actor.Extension;
import akka.annotation.InternalApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts discovery when the actor system starts, listed in reference.conf under {@code
 * akka.library-extensions}, if Cluster Bootstrap's discovery method is {@code postgres} and {@code
 * akka.discovery.postgres.start-with-actor-system} is on. The node then announces itself seconds
 * before {@code ClusterBootstrap.start()}, while the rest of the application starts, and the other
 * nodes' Bootstrap, whose stable margin restarts whenever a contact point appears, settles sooner.
 *
 * <p>It never fails the actor system's start: a bad setting is recorded, and {@code
 * ClusterBootstrap.start()} (the first use of the method) throws it naming the key, as without this
 * extension.
 */
@InternalApi
public final class PostgresDiscoveryEarlyStart
    extends AbstractExtensionId<PostgresDiscoveryEarlyStart.Started> {

  private static final Logger log = LoggerFactory.getLogger(PostgresDiscoveryEarlyStart.class);

  /** Whether discovery was started with the actor system. */
  public record Started(boolean started) implements Extension {}

  /** Akka creates it by name from {@code akka.library-extensions}. */
  public PostgresDiscoveryEarlyStart() {}

  @Override
  public Started createExtension(ExtendedActorSystem system) {
    if (!PostgresDiscoverySettings.startsWithActorSystem(system.settings().config())) {
      return new Started(false);
    }
    try {
      PostgresDiscovery.get(system);
      return new Started(true);
    } catch (RuntimeException e) {
      log.debug(
          "PostgreSQL discovery did not start with the actor system; its first use reports why", e);
      return new Started(false);
    }
  }
}
