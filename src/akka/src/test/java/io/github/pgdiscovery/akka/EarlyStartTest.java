package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.testkit.javadsl.TestKit;
import ch.qos.logback.classic.Level;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.testing.ChannelTap;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.LogCapture;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Ports;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Discovery starts with the actor system, before ClusterBootstrap.start(), when Bootstrap's method
 * is postgres.
 */
@DatabaseTest
final class EarlyStartTest {

  private final TestDatabase db;
  private final Resources resources = new Resources();
  private final List<ActorSystem> systems = new ArrayList<>();

  EarlyStartTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() throws Exception {
    systems.forEach(TestKit::shutdownActorSystem);
    resources.close();
  }

  @Test
  void aNodeAnnouncesWhenItsActorSystemStartsBeforeBootstrapIsStarted() throws Exception {
    Config config = new AkkaNodes(db, 1).config(Ports.free(), Ports.free(), "");
    ChannelTap tap =
        resources.add(new ChannelTap(db, config.getString("akka.discovery.postgres.channel")));

    ActorSystem system = start("EarlyNode", config);

    List<String> heard = new ArrayList<>();
    Poll.until(
        Duration.ofSeconds(15),
        "the node's announcement on the channel, with Bootstrap not started",
        () -> {
          try {
            heard.addAll(tap.heard(100));
          } catch (java.sql.SQLException e) {
            throw new AssertionError("channel tap failed", e);
          }
          return heard.stream()
              .anyMatch(
                  payload ->
                      payload.contains("\"type\":\"announce\"")
                          && payload.contains("\"service\":\"earlynode\""));
        },
        () -> heard);
    assertTrue(
        system.hasExtension(PostgresDiscovery.ID), "discovery started with the actor system");
  }

  /**
   * The start (settings, the protocol's codec, the driver) runs on a thread of its own, so the
   * actor system's start, and Management and Bootstrap after it, do not wait for it.
   */
  @Test
  void discoveryStartsOffTheThreadThatCreatesTheActorSystem() {
    try (LogCapture engineLog = LogCapture.of(DiscoveryEngine.class)) {
      start("OffThread", new AkkaNodes(db, 1).config(Ports.free(), Ports.free(), ""));

      Poll.until(
          Duration.ofSeconds(15),
          "discovery's start logged",
          () -> engineLog.count(Level.INFO, "", "service [offthread]") > 0,
          engineLog::all);
      assertEquals(
          1,
          engineLog.count(
              Level.INFO, PostgresDiscoveryEarlyStart.THREAD_NAME, "service [offthread]"),
          () ->
              "started on "
                  + engineLog.events(Level.INFO, "").stream()
                      .map(event -> event.getThreadName() + ": " + event.getFormattedMessage())
                      .toList());
    }
  }

  @Test
  void switchedOffDiscoveryWaitsForItsFirstUse() {
    ActorSystem system =
        start(
            "LateNode",
            new AkkaNodes(db, 1)
                .config(
                    Ports.free(),
                    Ports.free(),
                    "akka.discovery.postgres.start-with-actor-system = off"));

    assertFalse(system.hasExtension(PostgresDiscovery.ID));
  }

  @Test
  void aSystemWhoseBootstrapUsesAnotherMethodDoesNotStartDiscovery() {
    ActorSystem system =
        start(
            "OtherMethod",
            new AkkaNodes(db, 1)
                .config(
                    Ports.free(),
                    Ports.free(),
                    "akka.management.cluster.bootstrap.contact-point-discovery.discovery-method = config"));

    assertFalse(system.hasExtension(PostgresDiscovery.ID));
  }

  @Test
  void aBadSettingDoesNotFailTheActorSystemButFailsBootstrapsStartNamingTheKey() {
    ActorSystem system =
        start(
            "BadSetting",
            new AkkaNodes(db, 1)
                .config(Ports.free(), Ports.free(), "akka.discovery.postgres.expire-after = 1s"));

    ConfigException error =
        assertThrows(ConfigException.class, () -> ClusterBootstrap.get(system).start());

    assertTrue(
        error.getMessage().contains("akka.discovery.postgres.expire-after"), error.getMessage());
    assertFalse(system.whenTerminated().isCompleted(), "the actor system keeps running");
  }

  private ActorSystem start(String name, Config config) {
    ActorSystem system = ActorSystem.create(name, config);
    systems.add(system);
    return system;
  }
}
