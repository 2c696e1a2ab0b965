package io.github.pgdiscovery.core.protocol;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The rule of a member told by its cluster of a member it holds no contact point for (members are
 * quiet once joined, so it will not hear of it by itself). Its announcement is usually on its way:
 * the part waits two heartbeat intervals. Then a node back on the channel only lately, which may
 * have missed more, asks the responders' views ({@value #PROBES} - 1 probes, each a couple of
 * heartbeat intervals apart, stepping to the next responders); a node that listened all along, and
 * so heard what they heard, does not. If nobody's view has it, only the member can tell: everybody
 * is asked to announce, once, on the channel, where every member catching up hears the answers. To
 * keep that to one probe for the whole cluster, each waits its turn by rank and stands down when it
 * hears another's. So a member nobody heard (of another service, channel or data centre of the same
 * cluster) costs one probe of everybody, not every member asking everybody.
 *
 * <p>The part decides; the protocol carries out what {@link #tick} answers.
 */
final class CatchUp {

  /** What the protocol does at a tick. */
  enum Step {
    NOTHING,
    /** Probe the node's own service with its view's digest, stating {@link #attempt()}. */
    PROBE,
    ASK_EVERYBODY
  }

  static final int PROBES = 4;

  private int probesLeft;
  private boolean armed;
  private boolean turnTaken;
  private long nextAt;
  private int attempt;

  /** The cluster reports a member Up that this node holds no contact point for. */
  void memberUnheard() {
    if (probesLeft == 0) {
      probesLeft = PROBES;
      turnTaken = false;
      armed = true;
    }
  }

  /** Catching up now: the node's view lacks a member, which it is asking for. */
  boolean active() {
    return probesLeft > 0;
  }

  /** Wants a tick at once, to start. */
  boolean armed() {
    return armed;
  }

  /** Somebody asked everybody: every node announces in answer, this one hears them all. */
  void othersAskedEverybody() {
    probesLeft = 0;
    turnTaken = false;
  }

  /** The attempt the probe of a {@link Step#PROBE} states. */
  int attempt() {
    return attempt;
  }

  /**
   * @param canAct whether the node answers lookups and probes at all (ready)
   * @param heartbeatNanos the heartbeat interval
   * @param listenedAllAlong whether the node's connection is old enough to have heard every
   *     announcement
   * @param stillUnknown whether the cluster still has members Up the node holds no contact point
   *     for
   * @param turnNanos how long this node waits its turn to ask everybody, by its rank
   */
  Step tick(
      long now,
      boolean canAct,
      long heartbeatNanos,
      BooleanSupplier listenedAllAlong,
      BooleanSupplier stillUnknown,
      LongSupplier turnNanos) {
    if (armed) {
      armed = false;
      nextAt = now + 2 * heartbeatNanos;
      if (listenedAllAlong.getAsBoolean()) {
        probesLeft = 1;
      }
      return Step.NOTHING;
    }
    if (probesLeft == 0 || !canAct || now - nextAt < 0) {
      return Step.NOTHING;
    }
    if (!stillUnknown.getAsBoolean()) {
      probesLeft = 0;
      return Step.NOTHING;
    }
    if (--probesLeft > 0) {
      nextAt = now + 2 * heartbeatNanos;
      attempt = PROBES - 1 - probesLeft;
      return Step.PROBE;
    }
    if (!turnTaken) {
      turnTaken = true;
      probesLeft = 1;
      nextAt = now + turnNanos.getAsLong();
      return Step.NOTHING;
    }
    turnTaken = false;
    return Step.ASK_EVERYBODY;
  }

  /** {@code next}, or the earlier moment this part acts. */
  long nextDeadline(long next, boolean canAct) {
    return probesLeft > 0 && canAct ? Deadlines.earlier(next, nextAt) : next;
  }
}
