package io.github.pgdiscovery.simulation.invariants;

/** Where an invariant records that it was broken: the simulation stamps it with seed and time. */
@FunctionalInterface
public interface Violations {

  void found(Invariant broken, String what);
}
