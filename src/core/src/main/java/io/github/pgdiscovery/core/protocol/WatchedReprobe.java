package io.github.pgdiscovery.core.protocol;

/**
 * The rule of a node waiting to join that holds peers whose cluster watches them: it asks for the
 * responders' views again every half of a watched peer's stay, so that one its cluster removed
 * unheard leaves its view. Without a whole roster in time it asks again, of the next responders
 * too, and at last asks everybody, whose answers each keep their sender.
 *
 * <p>The part decides and keeps the schedule; the protocol probes.
 */
final class WatchedReprobe {

  /** What the protocol does at a tick. */
  enum Step {
    NOTHING,
    /** Probe the node's own service, stating {@link #attempt()}. */
    PROBE,
    ASK_EVERYBODY
  }

  private final long periodNanos;

  private long probedAt;
  private boolean answered = true;
  private Long echoAt;

  /** Probes sent since the last answered one: the attempt of the next. */
  private int attempt;

  /**
   * @param watchedPeerTtlNanos how long a watched peer stays unconfirmed
   */
  WatchedReprobe(long watchedPeerTtlNanos) {
    this.periodNanos = watchedPeerTtlNanos / 2;
  }

  void connected(long now) {
    probedAt = now;
    answered = true;
    echoAt = null;
    attempt = 0;
  }

  /** The node heard its probe of its own view come back. */
  void echoed(long now) {
    if (!answered && echoAt == null) {
      echoAt = now;
    }
  }

  /** A whole roster of the node's own service came in. */
  void answered() {
    answered = true;
  }

  /** The attempt the probe of a {@link Step#PROBE} states. */
  int attempt() {
    return attempt;
  }

  /**
   * @param eligible whether the node re-probes at all: it probes, has not joined, answers lookups,
   *     and holds watched peers
   * @param replyWait how long the node waits for answers after its probe's echo
   */
  Step tick(long now, boolean eligible, long replyWait) {
    if (eligible && answered && now - probedAt >= periodNanos) {
      probedAt = now;
      answered = false;
      echoAt = null;
      attempt = 0;
      return Step.PROBE;
    }
    if (answered || echoAt == null || now - echoAt < waitNanos(replyWait)) {
      return Step.NOTHING;
    }
    if (++attempt < OwnProbe.PROBES_BEFORE_ASKING_EVERYBODY) {
      // Nobody sent a whole roster in time: ask again, and the next responders answer too.
      echoAt = null;
      return Step.PROBE;
    }
    // Still none: everybody answers instead, and each answer keeps its sender.
    answered = true;
    return Step.ASK_EVERYBODY;
  }

  /** {@code next}, or the earlier moment this part acts. */
  long nextDeadline(long next, boolean eligible, long replyWait) {
    if (!answered && echoAt != null) {
      return Deadlines.earlier(next, echoAt + waitNanos(replyWait));
    }
    return eligible && answered ? Deadlines.earlier(next, probedAt + periodNanos) : next;
  }

  private long waitNanos(long replyWait) {
    return replyWait << Math.min(attempt, 3);
  }
}
