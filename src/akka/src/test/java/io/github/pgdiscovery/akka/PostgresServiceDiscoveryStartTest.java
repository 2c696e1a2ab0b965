package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.discovery.Discovery;
import akka.discovery.Lookup;
import akka.discovery.ServiceDiscovery;
import akka.testkit.javadsl.TestKit;
import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.util.Try;

/**
 * The discovery method as Akka loads it: start-up checks and lookups that must fail rather than
 * mislead.
 */
@DatabaseTest
final class PostgresServiceDiscoveryStartTest {

  /** Nothing listens on port 1: every connection attempt is refused at once. */
  private static final String DOWN_URL = "jdbc:postgresql://127.0.0.1:1/db";

  private ActorSystem system;

  @AfterEach
  void terminate() {
    if (system != null) {
      TestKit.shutdownActorSystem(system);
    }
  }

  @Test
  void badChannelFailsWhenDiscoveryLoadsNamingTheKeyAndValue() {
    system =
        ActorSystem.create(
            "BadChannel",
            NodeConfig.standalone(
                null, "jdbc:postgresql://127.0.0.1:1/db", "my-channel;drop", 8558));

    ConfigException error =
        assertThrows(
            ConfigException.class, () -> Discovery.get(system).loadServiceDiscovery("postgres"));

    assertTrue(error.getMessage().contains("akka.discovery.postgres.channel"), error.getMessage());
    assertTrue(error.getMessage().contains("my-channel;drop"), error.getMessage());
  }

  @Test
  void lookupFailsWithDiscoveryTimeoutWhileDatabaseIsUnreachable() {
    system =
        ActorSystem.create(
            "NoDatabase",
            NodeConfig.standalone(
                null, "jdbc:postgresql://127.0.0.1:1/db", "akka_discovery", 8558));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    CompletableFuture<ServiceDiscovery.Resolved> lookup =
        discovery.lookup("nodatabase", Duration.ofMillis(300)).toCompletableFuture();

    ExecutionException failure =
        assertThrows(ExecutionException.class, () -> lookup.get(10, TimeUnit.SECONDS));
    assertInstanceOf(ServiceDiscovery.DiscoveryTimeoutException.class, failure.getCause());
  }

  /**
   * Cluster Bootstrap is Scala and matches on the type of the failed Future's exception: it must be
   * the DiscoveryTimeoutException itself, not a CompletionException around it (the javadsl would
   * unwrap that, so this goes through the Scala API).
   */
  @Test
  void scalaLookupFailsWithTheDiscoveryTimeoutItselfWhileDatabaseIsUnreachable() throws Exception {
    system =
        ActorSystem.create(
            "NoDatabaseScala", NodeConfig.standalone(null, DOWN_URL, "akka_discovery", 8558));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    Future<ServiceDiscovery.Resolved> lookup =
        discovery.lookup(
            Lookup.create("nodatabasescala"), FiniteDuration.create(300, TimeUnit.MILLISECONDS));
    Await.ready(lookup, FiniteDuration.create(10, TimeUnit.SECONDS));

    Try<ServiceDiscovery.Resolved> outcome = lookup.value().get();
    assertTrue(outcome.isFailure(), outcome.toString());
    assertInstanceOf(ServiceDiscovery.DiscoveryTimeoutException.class, outcome.failed().get());
  }

  /**
   * With the database down a lookup neither hangs nor gives up early: it fails with
   * DiscoveryTimeoutException once its resolveTimeout is over. The lower bound matters too, since
   * the database may come back within the time the caller granted; timers never fire early, so a
   * small margin only covers the start of the measurement.
   */
  @Test
  void lookupWhileDatabaseIsUnreachableFailsWhenItsResolveTimeoutIsOver() throws Exception {
    system =
        ActorSystem.create(
            "NoDatabaseTimed", NodeConfig.standalone(null, DOWN_URL, "akka_discovery", 8558));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");
    Duration resolveTimeout = Duration.ofMillis(500);
    Duration margin = Duration.ofSeconds(5);

    long start = System.nanoTime();
    Future<ServiceDiscovery.Resolved> lookup =
        discovery.lookup(
            Lookup.create("nodatabasetimed"), FiniteDuration.fromNanos(resolveTimeout.toNanos()));
    Await.ready(lookup, FiniteDuration.fromNanos(resolveTimeout.plus(margin).toNanos()));
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

    assertFalse(
        elapsed.compareTo(resolveTimeout.minusMillis(50)) < 0, "failed early, after " + elapsed);
    Try<ServiceDiscovery.Resolved> outcome = lookup.value().get();
    assertTrue(outcome.isFailure(), outcome.toString());
    assertInstanceOf(
        ServiceDiscovery.DiscoveryTimeoutException.class,
        outcome.failed().get(),
        "after " + elapsed);
  }

  @Test
  void lookupAnswersWithThisNodeUnderTheBootstrapServiceNameOnceConnected(TestDatabase db)
      throws Exception {
    system =
        ActorSystem.create(
            "Lone_Node", NodeConfig.standalone(db, db.jdbcUrl(), db.newChannelName(), 8558));
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");

    ServiceDiscovery.Resolved resolved =
        discovery
            .lookup("lone-node", Duration.ofSeconds(5))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);

    List<ServiceDiscovery.ResolvedTarget> targets = resolved.getAddresses();
    assertEquals(1, targets.size());
    assertEquals("127.0.0.1", targets.get(0).host());
    assertEquals(8558, targets.get(0).getPort().orElseThrow());
    assertEquals("127.0.0.1", targets.get(0).getAddress().orElseThrow().getHostAddress());
  }
}
