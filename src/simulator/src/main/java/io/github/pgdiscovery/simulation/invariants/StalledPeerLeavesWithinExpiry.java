package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.simulation.SimulatedNode;
import io.github.pgdiscovery.simulation.Simulation;
import java.util.function.LongSupplier;

/**
 * A node outside its cluster whose connection silently stalls is out of the others' views within
 * its expiry, as a crashed one, while it is still on that connection. A member stays: its cluster
 * still reaches it.
 */
public final class StalledPeerLeavesWithinExpiry implements Invariant {

  private final Violations violations;
  private final Simulation sim;

  public StalledPeerLeavesWithinExpiry(Violations violations, Simulation sim) {
    this.violations = violations;
    this.sim = sim;
  }

  @Override
  public String rule() {
    return "a node outside its cluster whose connection stalls leaves every view within its expiry";
  }

  /** {@code node}'s connection stalled just now; checks the others' views once the bound passed. */
  public void stalled(SimulatedNode node) {
    if (node.hasJoined()) {
      return; // its cluster still reaches it, so it stays a member and in every view
    }
    // Read again when due: with tailed latencies it grows with the slowest notification seen.
    LongSupplier bound =
        () -> CrashedPeerLeavesWithinExpiry.expiryBound(sim.settings(), false, sim);
    long connectedSince = node.connectedSince();
    sim.checkAfter(
        sim.loop().now(),
        bound,
        () -> {
          if (!node.stalled() || node.connectedSince() != connectedSince || node.hasJoined()) {
            return; // it noticed and reconnected, or joined meanwhile: rightly in the views
          }
          for (SimulatedNode other : Invariant.stillListing(sim, node)) {
            violations.found(
                this,
                other.name()
                    + " still lists "
                    + node.name()
                    + ", stalled "
                    + bound.getAsLong() / Simulation.MILLISECOND
                    + " ms ago");
          }
        });
  }
}
