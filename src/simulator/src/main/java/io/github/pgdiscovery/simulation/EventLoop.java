package io.github.pgdiscovery.simulation;

import java.util.PriorityQueue;

/**
 * Virtual time for a simulation: one thread, one queue of timed actions, run in time order; actions
 * due at the same instant run in the order they were scheduled, so a run is a function of its seed
 * alone. Time is in nanoseconds from the start of the simulation and only moves when an action is
 * taken from the queue.
 */
public final class EventLoop {

  private record Event(long at, long order, Runnable action) {}

  private final PriorityQueue<Event> queue =
      new PriorityQueue<>(
          (a, b) ->
              a.at() != b.at() ? Long.compare(a.at(), b.at()) : Long.compare(a.order(), b.order()));
  private long now;
  private long scheduled;
  private long executed;

  /** Nanoseconds since the simulation started. */
  public long now() {
    return now;
  }

  /** Runs {@code action} at {@code at}, or now if that is in the past. */
  public void at(long at, Runnable action) {
    queue.add(new Event(Math.max(at, now), scheduled++, action));
  }

  public void after(long delayNanos, Runnable action) {
    at(now + Math.max(0, delayNanos), action);
  }

  /** Runs every action due up to {@code until}, then sets the time to it. */
  public void runUntil(long until) {
    while (!queue.isEmpty() && queue.peek().at() <= until) {
      Event event = queue.poll();
      now = event.at();
      executed++;
      event.action().run();
    }
    now = Math.max(now, until);
  }

  /** Actions run so far: how much work the simulation did. */
  public long executed() {
    return executed;
  }
}
