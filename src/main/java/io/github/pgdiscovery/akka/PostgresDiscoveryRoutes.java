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

/**
 * {@code GET /bootstrap/postgres} on the Akka Management endpoint: what discovery is doing on this node, as JSON.
 * Registered in reference.conf under {@code akka.management.http.routes}; read-only, so it is served in Akka
 * Management's read-only mode too. It never starts discovery itself: before the method is used it reports
 * {@code "state": "NOT_STARTED"}.
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
    if (!system.hasExtension(PostgresDiscovery.ID)) {
      ObjectNode json = MAPPER.createObjectNode();
      json.put("state", "NOT_STARTED");
      json.put("detail", "the postgres discovery method has not been used by this actor system");
      return json.toString();
    }
    return toJson(PostgresDiscovery.get(system).engine().status()).toString();
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
