package io.github.pgdiscovery.akka;

import akka.actor.ExtendedActorSystem;
import akka.discovery.Lookup;
import akka.discovery.ServiceDiscovery;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.HostNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import scala.Option;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * The {@code postgres} discovery method: answers lookups from the contact points heard on the
 * Postgres channel. Akka creates it once per actor system; it only fronts the engine that {@link
 * PostgresDiscovery} owns, and its constructor does not block.
 */
public final class PostgresServiceDiscovery extends ServiceDiscovery {

  private final DiscoveryEngine engine;

  public PostgresServiceDiscovery(ExtendedActorSystem system) {
    this.engine = PostgresDiscovery.get(system).engine();
  }

  /**
   * The contact points heard for {@code lookup.serviceName()}, this node included, in a stable
   * order. While the channel is not connected, or too recently to have heard the other nodes, it
   * waits up to {@code resolveTimeout} and then fails with {@link
   * ServiceDiscovery.DiscoveryTimeoutException}, so Bootstrap retries instead of seeing an empty or
   * partial answer. Never throws.
   */
  @Override
  public Future<Resolved> lookup(Lookup lookup, FiniteDuration resolveTimeout) {
    String service = lookup.serviceName();
    return FutureConverters.asScala(
        engine.lookup(
            service,
            Duration.ofNanos(resolveTimeout.toNanos()),
            contactPoints -> toResolved(service, contactPoints),
            DiscoveryTimeoutException::new));
  }

  /**
   * Contact points as Akka targets: host and port as announced, an IP literal's address parsed
   * without DNS.
   */
  static Resolved toResolved(String service, List<Announcement> contactPoints) {
    List<ResolvedTarget> targets = new ArrayList<>(contactPoints.size());
    for (Announcement node : contactPoints) {
      targets.add(
          new ResolvedTarget(
              node.host(),
              Option.apply(node.port()),
              Option.apply(HostNames.ipLiteral(node.host()).orElse(null))));
    }
    return new Resolved(service, CollectionConverters.asScala(targets).toList());
  }
}
