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
import io.github.pgdiscovery.core.StatusJson;

/**
 * {@code GET /bootstrap/postgres} on the Akka Management endpoint: what discovery is doing on this
 * node, as JSON. Registered in reference.conf under {@code akka.management.http.routes}; read-only,
 * so it is served in Akka Management's read-only mode too. It never starts discovery itself: before
 * the method is used it reports {@code "state": "NOT_STARTED"}, and when it could not start (a bad
 * setting, say) {@code "state": "FAILED"} with the reason as {@code "detail"}.
 *
 * <p>Every state answers HTTP 200: the route reports a state, and tools polling it read that from
 * one JSON shape. A FAILED start lasts until the node restarts with a fixed configuration, so 503
 * (try again later) would mislead, and many HTTP clients drop the body of an error answer, which is
 * where the reason is. Whether the node should take traffic is for the readiness check to say.
 */
public final class PostgresDiscoveryRoutes implements ManagementRouteProvider {

  private final ExtendedActorSystem system;

  public PostgresDiscoveryRoutes(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    // extractRequest: the status is read per request, not once when the route is built.
    return pathPrefix(
        "bootstrap",
        () ->
            path(
                "postgres",
                () ->
                    get(
                        () ->
                            extractRequest(
                                request ->
                                    complete(
                                        HttpResponse.create()
                                            .withEntity(ContentTypes.APPLICATION_JSON, json()))))));
  }

  private String json() {
    return StatusJson.forSystem(
            system,
            () -> system.hasExtension(PostgresDiscovery.ID),
            () -> PostgresDiscovery.get(system).engine().status())
        .toString();
  }
}
