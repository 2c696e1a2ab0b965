package io.github.pgdiscovery.akka;

import akka.actor.ActorSystem;
import io.github.pgdiscovery.core.DiscoveryEngine;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An opt-in Akka Management readiness check: ready once this node is Up in its cluster, and before
 * that while discovery answers its lookups. Enable it with
 *
 * <pre>
 * akka.management.health-checks.readiness-checks.postgres-discovery =
 *   "io.github.pgdiscovery.akka.PostgresReadinessCheck"
 * </pre>
 *
 * <p>The rule: ready while the cluster has this node Up (from MemberUp of this node until it is
 * removed or shuts down), whatever the database does, since a formed cluster needs no database and
 * a database outage must not take it out of service; otherwise ready while lookups of this node's
 * own service are answered, so a node that cannot discover its peers (a bad setting, a standby, a
 * pooler in transaction mode, a database that is down) is not ready before it joins.
 *
 * <p>When discovery cannot start (a bad setting, say) the check is constructed all the same, logs
 * the reason once and is never ready; {@code GET /bootstrap/postgres} shows the reason too.
 *
 * <p>Do not use it as a liveness check: a database outage must not restart the nodes of a formed
 * cluster, which does not need the database at all.
 */
public final class PostgresReadinessCheck implements Supplier<CompletionStage<Boolean>> {

  private static final Logger log = LoggerFactory.getLogger(PostgresReadinessCheck.class);

  /**
   * Null when discovery could not start: Akka keeps that failure for the actor system, so it is
   * final.
   */
  private final DiscoveryEngine engine;

  public PostgresReadinessCheck(ActorSystem system) {
    DiscoveryEngine started = null;
    try {
      started = PostgresDiscovery.get(system).engine();
    } catch (RuntimeException e) {
      log.error(
          "PostgreSQL discovery could not start, so this node never becomes ready: {}",
          e.getMessage());
    }
    this.engine = started;
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(engine != null && engine.isReadyToServe());
  }
}
