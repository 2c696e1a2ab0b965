package io.github.pgdiscovery.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline instead of sleeping for a guessed time. */
public final class Poll {

  private Poll() {}

  /**
   * Polls {@code condition} every 20 ms until it holds; fails with {@code what} and the last state
   * at the deadline.
   */
  public static void until(
      Duration deadline, String what, BooleanSupplier condition, Supplier<?> state) {
    long end = System.nanoTime() + deadline.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError(
            "Not within " + deadline + ": " + what + "; last state: " + state.get());
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for: " + what, e);
      }
    }
  }

  public static void until(Duration deadline, String what, BooleanSupplier condition) {
    until(deadline, what, condition, () -> "n/a");
  }
}
