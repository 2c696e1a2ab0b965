package io.github.pgdiscovery.core.protocol;

/**
 * Comparing readings of the monotonic clock: by their difference, never by value, since {@code
 * System.nanoTime} may be negative and may wrap around. Every part works out its next deadline with
 * these.
 */
final class Deadlines {

  private Deadlines() {}

  /** The earlier of two readings. */
  static long earlier(long a, long b) {
    return a - b <= 0 ? a : b;
  }

  /**
   * {@code deadline} if it is earlier than {@code next} and still ahead of {@code now}, else {@code
   * next}: a timer already past that did not change the state is held back by something with a
   * timer of its own, and asking for a tick now would spin the engine's loop.
   */
  static long ahead(long next, long deadline, long now) {
    return deadline - now > 0 ? earlier(next, deadline) : next;
  }
}
