package io.github.pgdiscovery.simulation.invariants;

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

  /** Virtual nanoseconds as milliseconds with three decimals, as violations state times. */
  static String millis(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e6);
  }
}
