package io.github.pgdiscovery.pekko;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import io.github.pgdiscovery.core.StatusJson;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /bootstrap/postgres} on the Pekko Management endpoint: what discovery is doing on this
 * node, as JSON. Registered in reference.conf under {@code pekko.management.http.routes};
 * read-only, so it is served in Pekko Management's read-only mode too. It never starts discovery
 * itself: before the method is used it reports {@code "state": "NOT_STARTED"}, and when it could
 * not start (a bad setting, say) {@code "state": "FAILED"} with the reason as {@code "detail"}.
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
