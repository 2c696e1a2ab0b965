package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.simulation.SimulatedNode;
import java.util.function.Supplier;

/**
 * A tick that had nothing to send leaves {@code nextDeadline} in the future: the engine polls for
 * at most the time to the next deadline, so one that stays in the past is a busy loop, a core burnt
 * per node while it lasts.
 */
public final class NoBusyLoop implements Invariant {

  /** Idle ticks in a row with the deadline still past that count as a busy loop. */
  public static final int IDLE_TICKS = 50;

  private final Violations violations;

  public NoBusyLoop(Violations violations) {
    this.violations = violations;
  }

  @Override
  public String rule() {
    return "after a tick with nothing to send, nextDeadline is in the future";
  }

  /**
   * {@code node} has ticked {@code idleTicks} times in a row with nothing to send and its deadline
   * still in the past; {@code reason}: why it is not ready, for the reader.
   */
  public void idleTicksInThePast(SimulatedNode node, int idleTicks, Supplier<String> reason) {
    if (idleTicks == IDLE_TICKS) {
      violations.found(
          this,
          node.name()
              + ": nextDeadline stays in the past after ticks with nothing to do (a busy loop); "
              + reason.get());
    }
  }
}
