package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * The rule of heartbeats and silence: a node announces on connect and every heartbeat interval,
 * with ±10% jitter; once its cluster has it Up, it announces at the joined interval, or (joined
 * heartbeats off, the default) once that its cluster watches it, and then nothing more; asked to
 * stop (removed from the cluster, shutting down), it says goodbye once. The part decides and keeps
 * the schedule; the protocol sends.
 */
final class Announcing {

  /** What the protocol sends at a tick. */
  enum Step {
    NOTHING,
    GOODBYE,
    ANNOUNCE
  }

  private final Timing timing;
  private final RandomGenerator random;

  private boolean requested = true;
  private boolean announcing;
  private boolean joined;
  private long nextHeartbeat;

  /**
   * Announce at the next tick, whatever the schedule: this node just joined and tells that its
   * cluster watches it.
   */
  private boolean announceNow;

  Announcing(Timing timing, RandomGenerator random) {
    this.timing = timing;
    this.random = random;
  }

  /** Connected: whether to announce at once; the next heartbeat is scheduled if so. */
  boolean connected(long now) {
    announceNow = false;
    announcing = requested;
    if (announcing) {
      nextHeartbeat = now + heartbeatDelayNanos(interval());
    }
    return announcing;
  }

  void disconnected() {
    announcing = false;
  }

  /** What to send now, if anything; the next heartbeat is scheduled when it is an announcement. */
  Step tick(long now) {
    if (announcing && !requested) {
      announcing = false;
      return Step.GOODBYE;
    }
    if (announcing && (announceNow || !silent() && now - nextHeartbeat >= 0)) {
      announceNow = false;
      // One read of the interval for both the stated interval and the next delay: they agree, as
      // joining happens between ticks.
      nextHeartbeat = now + heartbeatDelayNanos(interval());
      return Step.ANNOUNCE;
    }
    return Step.NOTHING;
  }

  /** This node has joined its cluster; false if it had already. */
  boolean joined() {
    if (joined) {
      return false;
    }
    joined = true;
    if (silent()) {
      // Tell everybody at once, then say nothing more: its peers keep it until the cluster removes
      // it.
      announceNow = announcing;
    }
    return true;
  }

  /** Stop heartbeats and say goodbye at the next tick. */
  void stop() {
    requested = false;
  }

  boolean isJoined() {
    return joined;
  }

  /** Announcing on this connection now. */
  boolean announcing() {
    return announcing;
  }

  /** Not asked to stop: announcing whenever connected. */
  boolean requested() {
    return requested;
  }

  /**
   * Joined, with joined heartbeats off: this node announced that its cluster watches it, and is
   * quiet.
   */
  boolean silent() {
    return joined && timing.silentOnceJoined();
  }

  /** Silent, and the announcement that the cluster watches it already sent. */
  boolean quiet() {
    return silent() && !announceNow;
  }

  /** How often this node announces now, and states it does. */
  Duration interval() {
    return joined && !timing.silentOnceJoined()
        ? timing.joinedHeartbeatInterval()
        : timing.heartbeatInterval();
  }

  /** What this node announces now: its interval, or that its cluster watches it. */
  Message.Announce announcement(Announcement self) {
    return silent()
        ? Message.Announce.watched(self)
        : new Message.Announce(self, interval().toMillis());
  }

  /** Something to send at once: a goodbye, or the announcement after joining. */
  boolean wantsTickNow() {
    return announcing && (!requested || announceNow);
  }

  /** {@code next}, or the next heartbeat if earlier. */
  long nextDeadline(long next) {
    return announcing && !silent() ? Deadlines.earlier(next, nextHeartbeat) : next;
  }

  /**
   * Uniform within ±10% of the interval: spreads nodes out so they do not notify in step, while the
   * mean stays the interval, so N nodes send N / interval notifications a second.
   */
  private long heartbeatDelayNanos(Duration interval) {
    return (long) (interval.toNanos() * (0.9 + 0.2 * random.nextDouble()));
  }

  /** The longest a heartbeat delay can be. */
  static long longestDelayNanos(Duration interval) {
    return (long) Math.ceil(interval.toNanos() * 1.1);
  }
}
