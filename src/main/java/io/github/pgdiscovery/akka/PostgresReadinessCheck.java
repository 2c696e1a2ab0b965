package io.github.pgdiscovery.akka;

import akka.actor.ActorSystem;
import io.github.pgdiscovery.core.DiscoveryEngine;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * An opt-in Akka Management readiness check: ready while the discovery channel is connected and delivering.
 * Enable it with
 *
 * <pre>
 * akka.management.health-checks.readiness-checks.postgres-discovery =
 *   "io.github.pgdiscovery.akka.PostgresReadinessCheck"
 * </pre>
 *
 * <p>Do not use it as a liveness check: a database outage must not restart the nodes of a formed cluster, which
 * does not need the database at all.
 */
public final class PostgresReadinessCheck implements Supplier<CompletionStage<Boolean>> {

  private final DiscoveryEngine engine;

  public PostgresReadinessCheck(ActorSystem system) {
    this.engine = PostgresDiscovery.get(system).engine();
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(engine.isReady());
  }
}
