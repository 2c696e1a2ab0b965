package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.ActorSystem;
import akka.actor.ExtendedActorSystem;
import akka.actor.InvalidActorNameException;
import akka.actor.Props;
import akka.testkit.javadsl.TestKit;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.ChannelTap;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The extension failing part-way through its start must not leave an engine behind. */
@DatabaseTest
final class PostgresDiscoveryStartFailureTest {

  private static final Duration DEADLINE = Duration.ofSeconds(20);

  /**
   * How long the channel must stay silent about the failed node once a node started after it has
   * been heard.
   */
  private static final Duration QUIET = Duration.ofSeconds(3);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final TestDatabase db;
  private final Resources resources = new Resources();
  private ActorSystem system;

  PostgresDiscoveryStartFailureTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (system != null) {
      TestKit.shutdownActorSystem(system);
    }
    resources.close();
  }

  /**
   * The membership listener cannot be created (its name is taken): a step after the engine exists.
   */
  @Test
  void membershipListenerFailingLeavesNothingAnnouncing() throws Exception {
    // Not with the actor system: the test takes the listener's name between the system's start and
    // discovery's.
    Config config =
        new AkkaNodes(db, 1)
            .config(
                0, TcpProxy.freePort(), "akka.discovery.postgres.start-with-actor-system = off");
    String channel = config.getString("akka.discovery.postgres.channel");
    ChannelTap tap = resources.add(new ChannelTap(db, channel));
    system = ActorSystem.create("LeftBehind", config);
    ((ExtendedActorSystem) system).systemActorOf(Props.empty(), "postgresDiscoveryMembership");

    assertThrows(InvalidActorNameException.class, () -> PostgresDiscovery.get(system));

    assertNoOtherNodeOn(
        channel, tap, "leftbehind"); // the service Bootstrap derives from the system name
  }

  /**
   * Discovery first used after the actor system has terminated: the termination hook cannot be
   * registered.
   */
  @Test
  void startOnATerminatedSystemLeavesNothingAnnouncing() throws Exception {
    String channel = db.newChannelName();
    ChannelTap tap = resources.add(new ChannelTap(db, channel));
    system =
        ActorSystem.create(
            "Terminated", NodeConfig.standalone(db, db.jdbcUrl(), channel, TcpProxy.freePort()));
    TestKit.shutdownActorSystem(system);

    assertThrows(RejectedExecutionException.class, () -> PostgresDiscovery.get(system));

    assertNoOtherNodeOn(channel, tap, "terminated");
  }

  /**
   * Proof that no engine was left running for {@code service}: a node of that service started on
   * the channel after the failure is heard, its probe is answered by nobody, and nobody else speaks
   * for the service for a while after.
   */
  private void assertNoOtherNodeOn(String channel, ChannelTap tap, String service)
      throws Exception {
    DiscoveryEngine control =
        new DiscoveryEngine(
            DiscoverySettings.builder(db.jdbcUrl())
                .user(db.user())
                .password(db.password())
                .channel(channel)
                .build(),
            new Announcement(
                service,
                "127.0.0.1",
                9,
                "akka://Control@127.0.0.1:9",
                9,
                UUID.randomUUID().toString()));
    resources.add(control);
    control.start();
    String controlIncarnation = control.self().incarnation();
    Poll.until(
        DEADLINE,
        "the control node is heard and ready",
        () ->
            control.isReady()
                && !about(heard(tap, 100), service, true, controlIncarnation).isEmpty(),
        control::status);

    assertEquals(
        List.of(control.self()),
        control.contactPoints(service, Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS));
    long quietEnd = System.nanoTime() + QUIET.toNanos();
    List<String> all = heard(tap, 0);
    for (long left; (left = quietEnd - System.nanoTime()) > 0; ) {
      all = heard(tap, (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    }
    assertEquals(
        List.of(), about(all, service, false, controlIncarnation), "heard from the failed node");
  }

  private static List<String> heard(ChannelTap tap, int timeoutMillis) {
    try {
      return tap.heard(timeoutMillis);
    } catch (Exception e) {
      throw new AssertionError("listening on the channel failed", e);
    }
  }

  /**
   * The payloads about {@code service} from {@code incarnation} (sentBy) or from any other one (not
   * sentBy).
   */
  private static List<String> about(
      List<String> payloads, String service, boolean sentBy, String incarnation) {
    List<String> matching = new ArrayList<>();
    for (String payload : payloads) {
      JsonNode message;
      try {
        message = JSON.readTree(payload);
      } catch (Exception e) {
        continue;
      }
      if (service.equals(message.path("service").asText())
          && message.path("incarnation").asText().equals(incarnation) == sentBy) {
        matching.add(payload);
      }
    }
    return matching;
  }
}
