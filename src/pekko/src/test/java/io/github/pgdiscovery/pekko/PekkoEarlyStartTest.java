package io.github.pgdiscovery.pekko;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Ports;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A Pekko node starts discovery with its actor system when Bootstrap's method is postgres. */
@DatabaseTest
final class PekkoEarlyStartTest {

  private final TestDatabase db;
  private final List<ActorSystem> systems = new ArrayList<>();

  PekkoEarlyStartTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() {
    systems.forEach(TestKit::shutdownActorSystem);
  }

  @Test
  void aNodeIsReadyBeforeBootstrapIsStarted() {
    ActorSystem system =
        start("EarlyPekko", new PekkoNodes(db, 1).config(Ports.free(), Ports.free(), ""));

    // Started on a thread of its own: polled, and never through get(), which would start it here.
    Poll.until(
        Duration.ofSeconds(15),
        "discovery started with the actor system and ready, with Bootstrap not started",
        () ->
            system.hasExtension(PostgresDiscovery.ID)
                && PostgresDiscovery.get(system).engine().isReady(),
        () ->
            system.hasExtension(PostgresDiscovery.ID)
                ? PostgresDiscovery.get(system).engine().status()
                : "not started");
  }

  @Test
  void switchedOffDiscoveryWaitsForItsFirstUse() {
    ActorSystem system =
        start(
            "LatePekko",
            new PekkoNodes(db, 1)
                .config(
                    Ports.free(),
                    Ports.free(),
                    "pekko.discovery.postgres.start-with-actor-system = off"));

    assertFalse(system.hasExtension(PostgresDiscovery.ID));
  }

  private ActorSystem start(String name, com.typesafe.config.Config config) {
    ActorSystem system = ActorSystem.create(name, config);
    systems.add(system);
    return system;
  }
}
