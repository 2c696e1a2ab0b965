package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.simulation.SimulatedNode;
import io.github.pgdiscovery.simulation.Simulation;
import java.util.List;

/**
 * A rule a simulated run must keep. Each rule is a class of this package, named after what it
 * demands; the simulation calls it where the rule can break, and a violation is recorded under the
 * rule's name (see {@link Violations}).
 */
public interface Invariant {

  /** The rule in one sentence, for a reader of a failure. */
  String rule();

  /** How a violation names the rule: the class's simple name. */
  default String name() {
    return getClass().getSimpleName();
  }

  /** The live nodes other than {@code node} whose lookup of its service lists it now. */
  static List<SimulatedNode> stillListing(Simulation sim, SimulatedNode node) {
    String incarnation = node.self().incarnation();
    return sim.live().stream()
        .filter(
            other ->
                other != node
                    && other
                        .protocol()
                        .lookup(node.self().service(), other.now())
                        .filter(
                            view ->
                                view.stream().anyMatch(a -> a.incarnation().equals(incarnation)))
                        .isPresent())
        .toList();
  }

  /** Virtual nanoseconds as milliseconds with three decimals, as violations state times. */
  static String millis(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e6);
  }
}
