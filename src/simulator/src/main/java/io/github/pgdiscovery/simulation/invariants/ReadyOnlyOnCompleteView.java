package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.simulation.SimulatedNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A node that has not joined its cluster becomes ready only with every node in its view that was
 * listening and announcing since before it connected and is still there: readiness is never
 * reported on a partial view to anybody who would use it (Cluster Bootstrap would decide on it).
 */
public final class ReadyOnlyOnCompleteView implements Invariant {

  private final Violations violations;

  public ReadyOnlyOnCompleteView(Violations violations) {
    this.violations = violations;
  }

  @Override
  public String rule() {
    return "a node outside its cluster becomes ready only with every node that announced before it"
        + " listened in its view";
  }

  /** {@code node} just became ready; {@code nodes}: every node of the simulation. */
  public void becameReady(SimulatedNode node, List<SimulatedNode> nodes) {
    if (node.excluded() != null || !(node.protocol() instanceof DiscoveryProtocol)) {
      return; // another protocol (a benchmark's heartbeats only) is ready on what it heard, by
      // design
    }
    if (node.hasJoined()) {
      // A member reconnecting does not probe: its readiness says notifications are delivered, not
      // that its view is complete, which nobody consumes (Bootstrap is done). It hears newcomers by
      // their next heartbeat; the convergence check after quiescence holds it to that.
      return;
    }
    Optional<List<Announcement>> view = node.lookup();
    List<String> missing = new ArrayList<>();
    for (SimulatedNode other : nodes) {
      if (other != node
          && other.self().service().equals(node.self().service())
          && other.announcing()
          && other.excluded() == null
          && other.connected()
          && !other.stalled()
          // Its announcement committed before this node's LISTEN: the view must hold it (one that
          // commits after is heard directly, maybe a moment after readiness).
          && other.connectedSince() >= 0
          && other.announcedAt() >= 0
          && other.announcedAt() < node.connectedSince()
          && (view.isEmpty()
              || view.get().stream().noneMatch(a -> a.sameContactPoint(other.self())))) {
        missing.add(other.self().endpoint());
      }
    }
    if (!missing.isEmpty()) {
      violations.found(
          this,
          node.name()
              + " became ready without "
              + missing.size()
              + " node(s) that announced before it"
              + " listened: "
              + missing.subList(0, Math.min(5, missing.size())));
    }
  }
}
