package io.github.pgdiscovery.core;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential delay between reconnection attempts, with ±20% jitter so that nodes do not retry in
 * lockstep. Public for the simulator, which reconnects its nodes with it.
 */
@Internal
public final class Backoff {

  private final long minNanos;
  private final long maxNanos;
  private final RandomGenerator random;

  /** {@code random} draws the jitter: seeded in a simulation, so that a run can be replayed. */
  public Backoff(Duration min, Duration max, RandomGenerator random) {
    this.minNanos = min.toNanos();
    this.maxNanos = Math.max(min.toNanos(), max.toNanos());
    this.random = random;
  }

  /** The delay before attempt number {@code attempt} (1 for the first retry). */
  public long delayNanos(int attempt) {
    int doublings = Math.min(Math.max(attempt - 1, 0), 30);
    double base = Math.min((double) maxNanos, minNanos * Math.pow(2, doublings));
    double jitter = 0.8 + 0.4 * random.nextDouble();
    return (long) Math.min(maxNanos, base * jitter);
  }
}
