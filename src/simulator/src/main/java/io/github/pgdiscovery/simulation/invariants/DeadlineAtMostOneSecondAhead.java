package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.simulation.SimulatedNode;
import io.github.pgdiscovery.simulation.Simulation;

/**
 * {@code nextDeadline} is never more than a second ahead of now, on any monotonic clock reading
 * (negative ones included): the engine polls for at most that long, and a deadline further out
 * would leave expiries and heartbeats late. A deadline in the past is fine, it asks for a tick now.
 */
public final class DeadlineAtMostOneSecondAhead implements Invariant {

  private final Violations violations;

  public DeadlineAtMostOneSecondAhead(Violations violations) {
    this.violations = violations;
  }

  @Override
  public String rule() {
    return "nextDeadline is at most a second ahead of now";
  }

  /**
   * {@code delta}: the node's next deadline minus {@code clock}, its monotonic clock now; true if
   * within the promise.
   */
  public boolean check(SimulatedNode node, long delta, long clock) {
    if (delta > Simulation.SECOND || delta < -(1L << 62)) {
      // More than a second ahead, or so far behind that the difference wrapped around.
      violations.found(
          this,
          node.name()
              + ": nextDeadline is "
              + delta
              + " ns from now, not within the promised second (clock"
              + " at "
              + clock
              + ")");
      return false;
    }
    return true;
  }
}
