package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.simulation.SimulatedNode;
import io.github.pgdiscovery.simulation.Simulation;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A crashed node is out of every live node's view by the time its expiry allows: one that had not
 * joined, its last stated interval's expiry plus the longest deliveries; a member, once its
 * cluster's downing provider removed it, a watched peer's stay after that (a member nobody removes
 * stays, as the cluster keeps it).
 */
public final class CrashedPeerLeavesWithinExpiry implements Invariant {

  private final Violations violations;
  private final Simulation sim;
  private final long downAfter;
  private final long membershipLag;

  /**
   * {@code downAfter}: when the downing provider removes a crashed member, negative for never;
   * {@code membershipLag}: the longest a cluster event takes to reach a node; nanoseconds.
   */
  public CrashedPeerLeavesWithinExpiry(
      Violations violations, Simulation sim, long downAfter, long membershipLag) {
    this.violations = violations;
    this.sim = sim;
    this.downAfter = downAfter;
    this.membershipLag = membershipLag;
  }

  @Override
  public String rule() {
    return "a crashed node leaves every view within its expiry (a member: within a watched peer's"
        + " stay after its cluster removed it)";
  }

  /** {@code node} crashed just now; checks every live node's view once the bound has passed. */
  public void crashed(SimulatedNode node) {
    if (node.hasJoined() && downAfter < 0) {
      return; // nobody removes it: the cluster keeps it as an unreachable member, and so do views
    }
    DiscoverySettings settings = sim.settings();
    boolean member = node.hasJoined();
    // A member is out of the views only once its cluster told: MemberRemoved reaches each member up
    // to the membership lag after the downing provider removed it, and until then that member holds
    // it watched by its cluster and vouches for it in rosters; a node waiting to join that hears
    // such a roster keeps it a watched peer's stay from then. The cluster keeps the crashed member
    // that long too (downAfter + lag at the slowest member), so the bound does. The bound is read
    // again when due: with tailed latencies it grows with the slowest notification seen.
    LongSupplier bound =
        () ->
            member
                ? downAfter
                    + membershipLag
                    + settings.timing().watchedPeerTtlNanos()
                    + settings.timing().probeReplyWindow().toNanos()
                    + sim.transitAllowance(4)
                    + Simulation.SECOND
                : expiryBound(settings, member, sim);
    long crashedAt = sim.loop().now();
    sim.checkAfter(
        crashedAt,
        bound,
        () -> {
          for (SimulatedNode other : Invariant.stillListing(sim, node)) {
            violations.found(
                this,
                other.name()
                    + " still lists "
                    + node.name()
                    + ", crashed at "
                    + Invariant.millis(crashedAt)
                    + " ms, "
                    + bound.getAsLong() / Simulation.MILLISECOND
                    + " ms after the crash");
          }
        });
  }

  /**
   * How long after it fell silent a node must be out of the others' views: the expiry of the
   * interval it last stated, plus what the hops of a roster may add.
   */
  static long expiryBound(DiscoverySettings settings, boolean member, Simulation sim) {
    Duration interval =
        member
            ? settings.timing().joinedHeartbeatInterval()
            : settings.timing().heartbeatInterval();
    // A roster passes on the responder's remaining expiry, which the receiver counts from when it
    // arrives: each hop may add a delivery's latency (a few milliseconds here, one notification's
    // transit in real life).
    return settings.timing().expireAfterNanos(interval.toMillis())
        + sim.transitAllowance(20)
        + Simulation.MILLISECOND;
  }
}
