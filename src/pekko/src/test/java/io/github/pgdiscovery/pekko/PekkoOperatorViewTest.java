package io.github.pgdiscovery.pekko;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Ports;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.discovery.Discovery;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.testkit.javadsl.TestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What an operator of a Pekko node sees: the management route and the readiness check. */
@DatabaseTest
final class PekkoOperatorViewTest {

  private static final Duration DEADLINE = Duration.ofSeconds(15);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String READINESS =
      "pekko.management.health-checks.readiness-checks.postgres-discovery = "
          + "\"io.github.pgdiscovery.pekko.PostgresReadinessCheck\"";

  private final TestDatabase db;
  private final Resources resources = new Resources();
  private ActorSystem system;

  PekkoOperatorViewTest(TestDatabase db) {
    this.db = db;
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (system != null) {
      TestKit.shutdownActorSystem(system);
    }
    resources.close();
  }

  @Test
  void routeAndReadinessShowTheNodeReadyWithItsPeers() throws Exception {
    String channel = db.newChannelName();
    int port = Ports.free();
    system =
        ActorSystem.create(
            "OperatorView", withReadiness(PekkoNodes.standalone(db, db.jdbcUrl(), channel, port)));
    // The readiness check is what starts discovery here, with Pekko Management.
    PekkoManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS);

    Poll.until(
        DEADLINE,
        "the route reports ready",
        () -> get(port, "/bootstrap/postgres").path("ready").asBoolean());
    Poll.until(DEADLINE, "the readiness check is ready", () -> statusCode(port, "/ready") == 200);

    peer(channel, 9876, "pekko://OperatorView@127.0.0.1:1");
    Poll.until(
        DEADLINE,
        "the peer appears in the route",
        () -> get(port, "/bootstrap/postgres").path("peers").size() == 1,
        () -> get(port, "/bootstrap/postgres"));
    JsonNode status = get(port, "/bootstrap/postgres");
    assertEquals(channel, status.path("channel").asText());
    assertEquals("operatorview", status.path("self").path("service").asText());
    assertTrue(
        status.path("self").path("address").asText().startsWith("pekko://OperatorView"),
        status::toString);
    assertEquals(9876, status.path("peers").get(0).path("port").asInt());
  }

  @Test
  void anAkkaNodeOnTheSameChannelAndServiceIsIgnoredAndCounted() throws Exception {
    String channel = db.newChannelName();
    int port = Ports.free();
    system =
        ActorSystem.create("OperatorView", PekkoNodes.standalone(db, db.jdbcUrl(), channel, port));
    PekkoManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals("NOT_STARTED", get(port, "/bootstrap/postgres").path("state").asText());
    Discovery.get(system).loadServiceDiscovery("postgres");
    Poll.until(
        DEADLINE,
        "the route reports ready",
        () -> get(port, "/bootstrap/postgres").path("ready").asBoolean());

    peer(channel, 9877, "akka://OperatorView@127.0.0.1:2");

    Poll.until(
        DEADLINE,
        "the Akka node's announcement to be counted as another toolkit's",
        () ->
            get(port, "/bootstrap/postgres")
                    .path("counters")
                    .path("rejectedByReason")
                    .path("OTHER_TOOLKIT")
                    .asLong()
                > 0,
        () -> get(port, "/bootstrap/postgres"));
    assertEquals(0, get(port, "/bootstrap/postgres").path("peers").size());
  }

  @Test
  void aBadSettingIsReportedByTheRouteAndTheNodeIsNeverReady() throws Exception {
    int port = Ports.free();
    system =
        ActorSystem.create(
            "BadSetting",
            withReadiness(
                ConfigFactory.parseString("pekko.discovery.postgres.expire-after = 1s")
                    .withFallback(
                        PekkoNodes.standalone(db, db.jdbcUrl(), db.newChannelName(), port))));
    PekkoManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS);

    assertThrows(
        RuntimeException.class, () -> Discovery.get(system).loadServiceDiscovery("postgres"));

    JsonNode status = get(port, "/bootstrap/postgres");
    assertEquals("FAILED", status.path("state").asText());
    assertTrue(
        status.path("detail").asText().contains("pekko.discovery.postgres.expire-after"),
        status::toString);
    assertFalse(statusCode(port, "/ready") == 200);
  }

  private void peer(String channel, int port, String address) {
    DiscoverySettings settings =
        DiscoverySettings.builder(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .channel(channel)
            .build();
    DiscoveryEngine engine =
        resources.add(
            new DiscoveryEngine(
                settings,
                new Announcement(
                    "operatorview",
                    "127.0.0.1",
                    port,
                    address,
                    port,
                    UUID.randomUUID().toString())));
    engine.start();
  }

  private static Config withReadiness(Config config) {
    return ConfigFactory.parseString(READINESS).withFallback(config);
  }

  private static JsonNode get(int port, String path) {
    try {
      return JSON.readTree(
          HTTP.send(request(port, path), HttpResponse.BodyHandlers.ofString()).body());
    } catch (Exception e) {
      throw new AssertionError("GET " + path + " failed", e);
    }
  }

  private static int statusCode(int port, String path) {
    try {
      return HTTP.send(request(port, path), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static HttpRequest request(int port, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10))
        .build();
  }
}
