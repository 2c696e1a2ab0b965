package io.github.pgdiscovery.akka;

import static akka.http.javadsl.server.Directives.complete;
import static akka.http.javadsl.server.Directives.extractRequest;
import static akka.http.javadsl.server.Directives.get;
import static akka.http.javadsl.server.Directives.path;
import static akka.http.javadsl.server.Directives.pathPrefix;

import akka.actor.ExtendedActorSystem;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.Route;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.EngineStatus;
import io.github.pgdiscovery.core.protocol.PeerTable;
import java.util.Optional;

/**
 * {@code GET /bootstrap/postgres} on the Akka Management endpoint: what discovery is doing on this node, as JSON.
 * Registered in reference.conf under {@code akka.management.http.routes}; read-only, so it is served in Akka
 * Management's read-only mode too. It never starts discovery itself: before the method is used it reports
 * {@code "state": "NOT_STARTED"}, and when it could not start (a bad setting, say) {@code "state": "FAILED"} with
 * the reason as {@code "detail"}.
 *
 * <p>Every state answers HTTP 200: the route reports a state, and tools polling it read that from one JSON shape.
 * A FAILED start lasts until the node restarts with a fixed configuration, so 503 (try again later) would mislead,
 * and many HTTP clients drop the body of an error answer, which is where the reason is. Whether the node should
 * take traffic is for the readiness check to say.
 */
public final class PostgresDiscoveryRoutes implements ManagementRouteProvider {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final ExtendedActorSystem system;

  public PostgresDiscoveryRoutes(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    // extractRequest: the status is read per request, not once when the route is built.
    return pathPrefix("bootstrap", () -> path("postgres", () -> get(() -> extractRequest(request ->
        complete(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json()))))));
  }

  private String json() {
    Optional<Throwable> failure = PostgresDiscovery.startFailure(system);
    if (failure.isPresent()) {
      return failed(failure.get()).toString();
    }
    boolean started;
    try {
      started = system.hasExtension(PostgresDiscovery.ID);
    } catch (RuntimeException e) {
      // A start that failed since the check above: Akka rethrows it, and it has been recorded by now.
      return failed(PostgresDiscovery.startFailure(system).orElse(e)).toString();
    }
    if (!started) {
      ObjectNode json = MAPPER.createObjectNode();
      json.put("state", "NOT_STARTED");
      json.put("detail", "the postgres discovery method has not been used by this actor system");
      return json.toString();
    }
    return toJson(PostgresDiscovery.get(system).engine().status()).toString();
  }

  /** Discovery could not start: the reason as the failure states it (settings errors name the key). */
  static ObjectNode failed(Throwable failure) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("state", "FAILED");
    json.put("detail", failure.getMessage() != null ? failure.getMessage() : failure.getClass().getName());
    return json;
  }

  /** The status as the route shows it; kept apart from HTTP so it can be checked on plain data. */
  static ObjectNode toJson(EngineStatus status) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("channel", status.channel());
    json.put("state", status.state().name());
    json.put("since", status.since().toString());
    json.put("ready", status.ready());
    json.put("lastError", status.lastError());
    json.put("announcing", status.announcing());
    json.put("heartbeatIntervalMillis", status.heartbeatInterval().toMillis());
    json.set("self", node(status.self()));
    ArrayNode peers = json.putArray("peers");
    for (PeerTable.HeardPeer peer : status.peers()) {
      peers.add(node(peer.node()).put("ageMillis", peer.ageMillis()));
    }
    ObjectNode counters = json.putObject("counters");
    counters.put("sent", status.sent());
    counters.put("received", status.received());
    counters.put("rejected", status.rejectedTotal());
    ObjectNode reasons = counters.putObject("rejectedByReason");
    status.rejected().forEach((reason, count) -> reasons.put(reason.name(), count));
    counters.put("reconnects", status.reconnects());
    return json;
  }

  private static ObjectNode node(Announcement node) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("service", node.service());
    json.put("host", node.host());
    json.put("port", node.port());
    json.put("address", node.address());
    json.put("uid", node.uid());
    json.put("incarnation", node.incarnation());
    return json;
  }
}
