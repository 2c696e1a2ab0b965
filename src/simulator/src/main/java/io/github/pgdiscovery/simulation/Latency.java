package io.github.pgdiscovery.simulation;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How long one leg of a notification's way takes, drawn from the simulation's random: a uniform
 * body, and tails, each taken with its probability and drawn log-uniformly between its bounds, as
 * slow events spread over orders of magnitude (a busy disk's fsync, TCP's retransmission timeout, a
 * stalled fsync). A latency without tails draws exactly as the simulator always did, so seeds of
 * the uniform default replay as before.
 */
public final class Latency {

  private record Tail(double probability, long min, long max) {}

  private final long min;
  private final long max;
  private final List<Tail> tails;

  private Latency(long min, long max, List<Tail> tails) {
    if (min < 0 || max < min) {
      throw new IllegalArgumentException("latency range " + min + ".." + max + " ns");
    }
    this.min = min;
    this.max = max;
    this.tails = List.copyOf(tails);
  }

  /** Uniform between {@code minNanos} (included) and {@code maxNanos} (excluded). */
  public static Latency uniform(long minNanos, long maxNanos) {
    return new Latency(minNanos, maxNanos, List.of());
  }

  /** Uniform between the two, in microseconds. */
  public static Latency micros(long min, long max) {
    return uniform(min * 1000, max * 1000);
  }

  /** This latency, and with {@code probability} one between {@code min} and {@code max}. */
  public Latency tail(double probability, Duration min, Duration max) {
    List<Tail> more = new ArrayList<>(tails);
    more.add(new Tail(probability, min.toNanos(), max.toNanos()));
    double total = more.stream().mapToDouble(Tail::probability).sum();
    if (probability <= 0 || total >= 1 || min.isNegative() || max.compareTo(min) < 0) {
      throw new IllegalArgumentException("tail " + probability + " of " + min + ".." + max);
    }
    return new Latency(this.min, this.max, more);
  }

  /** The longest the body takes: what a leg takes at most unless a tail is drawn. */
  public long bodyMax() {
    return max;
  }

  public boolean tailed() {
    return !tails.isEmpty();
  }

  long draw(SplittableRandom random) {
    if (!tails.isEmpty()) {
      double u = random.nextDouble();
      for (Tail tail : tails) {
        if (u < tail.probability()) {
          double lo = Math.log(Math.max(1, tail.min()));
          double hi = Math.log(Math.max(1, tail.max()));
          return (long) Math.exp(lo + (hi - lo) * random.nextDouble());
        }
        u -= tail.probability();
      }
    }
    return max <= min ? min : random.nextLong(min, max);
  }
}
