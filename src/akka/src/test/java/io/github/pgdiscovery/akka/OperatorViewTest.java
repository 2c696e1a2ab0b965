package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.discovery.Discovery;
import akka.management.javadsl.AkkaManagement;
import akka.testkit.javadsl.TestKit;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.github.pgdiscovery.core.DiscoveryEngine;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TcpProxy;
import io.github.pgdiscovery.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What an operator sees: the management route and the readiness check, on a running node. */
@DatabaseTest
final class OperatorViewTest {

  private static final Duration DEADLINE = Duration.ofSeconds(15);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final TestDatabase db;
  private final Resources resources = new Resources();
  private ActorSystem system;

  OperatorViewTest(TestDatabase db) {
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
  void routeShowsThisNodeAndPeersAppearingAndDisappearing() throws Exception {
    String channel = db.newChannelName();
    int managementPort = TcpProxy.freePort();
    system =
        ActorSystem.create(
            "OperatorView", NodeConfig.standalone(db, db.jdbcUrl(), channel, managementPort));
    AkkaManagement.get(system).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Discovery.get(system).loadServiceDiscovery("postgres");
    Poll.until(
        DEADLINE,
        "the route reports ready",
        () -> status(managementPort).path("ready").asBoolean(false));

    JsonNode alone = status(managementPort);
    assertEquals(channel, alone.path("channel").asText());
    assertEquals("CONNECTED", alone.path("state").asText());
    assertTrue(alone.path("announcing").asBoolean());
    assertEquals("operatorview", alone.path("self").path("service").asText());
    assertEquals(managementPort, alone.path("self").path("port").asInt());
    assertEquals(0, alone.path("peers").size());
    assertTrue(alone.path("counters").path("sent").asLong() >= 2, alone.toString());
    JsonNode kinds = alone.path("counters").path("sentByType");
    assertTrue(
        kinds.path("announce").asLong() >= 1 && kinds.path("probe").asLong() >= 1,
        alone.toString());
    assertEquals(0, alone.path("counters").path("rejected").asLong());

    DiscoveryEngine peer = peer(channel, 9876);
    Poll.until(
        DEADLINE,
        "the peer appears in the route",
        () -> peerPorts(managementPort).equals(List.of(9876)),
        () -> status(managementPort));
    JsonNode withPeer = status(managementPort).path("peers").get(0);
    assertEquals("127.0.0.1", withPeer.path("host").asText());
    assertTrue(
        withPeer.has("ageMillis") && withPeer.has("address") && withPeer.has("incarnation"),
        withPeer.toString());

    peer.close();
    Poll.until(
        DEADLINE,
        "the peer disappears after its goodbye",
        () -> peerPorts(managementPort).isEmpty(),
        () -> status(managementPort));
  }

  @Test
  void readinessIsFalseWhileTheDatabaseIsUnreachableAndTrueOnceConnected() throws Exception {
    TcpProxy proxy = new TcpProxy(db.host(), db.port(), TcpProxy.freePort());
    resources.add(proxy);
    system =
        ActorSystem.create(
            "Readiness",
            NodeConfig.standalone(
                db, db.jdbcUrlVia(proxy.port()), db.newChannelName(), TcpProxy.freePort()));
    PostgresReadinessCheck readiness = new PostgresReadinessCheck(system);
    DiscoveryEngine engine = PostgresDiscovery.get(system).engine();
    Poll.until(DEADLINE, "a failed connection attempt", () -> engine.status().lastError() != null);

    assertFalse(ready(readiness.get()));

    proxy.start();
    Poll.until(
        DEADLINE,
        "readiness once the database is reachable",
        () -> ready(readiness.get()),
        engine::status);
  }

  /**
   * A bad setting: the route reports NOT_STARTED until the method is used (it never starts
   * discovery itself), then FAILED with the configuration problem, where it used to answer HTTP
   * 500.
   */
  @Test
  void routeReportsAFailedStartWithTheConfigurationProblem() throws Exception {
    int managementPort = TcpProxy.freePort();
    system = ActorSystem.create("BadChannelRoute", badChannelConfig(managementPort));
    AkkaManagement.get(system)
        .start()
        .toCompletableFuture()
        .get(DEADLINE.toSeconds(), TimeUnit.SECONDS);

    assertEquals("NOT_STARTED", status(managementPort).path("state").asText());
    assertFalse(system.hasExtension(PostgresDiscovery.ID), "the route started discovery");

    ConfigException error =
        assertThrows(
            ConfigException.class, () -> Discovery.get(system).loadServiceDiscovery("postgres"));
    JsonNode failed = status(managementPort);
    assertEquals("FAILED", failed.path("state").asText(), failed.toString());
    assertEquals(error.getMessage(), failed.path("detail").asText());
    assertTrue(
        failed.path("detail").asText().contains("akka.discovery.postgres.channel"),
        failed.toString());
  }

  /**
   * A bad setting with the readiness check enabled: Akka Management starts (the check's constructor
   * used to throw, failing the start), the check says not ready, and so does {@code /ready}.
   */
  @Test
  void readinessIsFalseAfterAFailedStart() throws Exception {
    int managementPort = TcpProxy.freePort();
    Config config =
        ConfigFactory.parseString(
                "akka.management.health-checks.readiness-checks.postgres-discovery ="
                    + " \"io.github.pgdiscovery.akka.PostgresReadinessCheck\"")
            .withFallback(badChannelConfig(managementPort));
    system = ActorSystem.create("BadChannelReadiness", config);
    AkkaManagement.get(system)
        .start()
        .toCompletableFuture()
        .get(DEADLINE.toSeconds(), TimeUnit.SECONDS);

    assertFalse(ready(new PostgresReadinessCheck(system).get()));
    HttpResponse<String> ready = get(managementPort, "/ready");
    assertNotEquals(200, ready.statusCode(), ready.body());
    JsonNode failed = status(managementPort);
    assertEquals("FAILED", failed.path("state").asText(), failed.toString());
    assertTrue(
        failed.path("detail").asText().contains("akka.discovery.postgres.channel"),
        failed.toString());
  }

  private static Config badChannelConfig(int managementPort) {
    return NodeConfig.standalone(
        null, "jdbc:postgresql://127.0.0.1:1/db", "bad;name", managementPort);
  }

  private DiscoveryEngine peer(String channel, int port) {
    DiscoverySettings settings =
        DiscoverySettings.builder(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .channel(channel)
            .build();
    DiscoveryEngine engine =
        new DiscoveryEngine(
            settings,
            new Announcement(
                "operatorview",
                "127.0.0.1",
                port,
                "akka://OperatorView@127.0.0.1:1",
                port,
                UUID.randomUUID().toString()));
    resources.add(engine);
    engine.start();
    return engine;
  }

  private static boolean ready(CompletionStage<Boolean> check) {
    try {
      return check.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("the readiness check did not answer", e);
    }
  }

  private static List<Integer> peerPorts(int managementPort) {
    List<Integer> ports = new ArrayList<>();
    status(managementPort).path("peers").forEach(peer -> ports.add(peer.path("port").asInt()));
    return ports;
  }

  private static JsonNode status(int managementPort) {
    HttpResponse<String> response = get(managementPort, "/bootstrap/postgres");
    assertEquals(200, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    try {
      return JSON.readTree(response.body());
    } catch (Exception e) {
      throw new AssertionError("GET /bootstrap/postgres answered no JSON: " + response.body(), e);
    }
  }

  private static HttpResponse<String> get(int managementPort, String path) {
    try {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
              .timeout(DEADLINE)
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("GET " + path + " failed", e);
    }
  }
}
