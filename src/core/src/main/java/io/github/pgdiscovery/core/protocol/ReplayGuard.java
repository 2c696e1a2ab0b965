package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.util.Map;

/**
 * Rejects signed messages that are stale or replayed: the sender's timestamp must be within the
 * replay window of the receiver's clock, and each incarnation's sequence numbers must only grow. So
 * a recorded message cannot be sent again later to resurrect a peer that left, or to remove one
 * that is still there. Only meaningful for signed messages, whose seq and ts cannot be altered. Not
 * thread-safe: the engine thread owns it.
 */
public final class ReplayGuard {

  /**
   * Incarnations remembered; the oldest are forgotten first, and could then replay within the
   * window.
   */
  private static final int MAX_INCARNATIONS = 16_384;

  private final long windowMillis;
  private final Map<String, Long> lastSeq = new BoundedMap<>(MAX_INCARNATIONS, true);

  public ReplayGuard(long windowMillis) {
    this.windowMillis = windowMillis;
  }

  public void check(MessageCodec.Envelope envelope, long nowMillis)
      throws RejectedMessageException {
    if (Math.abs(nowMillis - envelope.timestampMillis()) > windowMillis) {
      throw new RejectedMessageException(
          Reason.STALE,
          "timestamp "
              + (envelope.timestampMillis() - nowMillis)
              + " ms from this node's clock, outside the"
              + " replay window of "
              + windowMillis
              + " ms (are the nodes' clocks synchronised?)");
    }
    String incarnation = envelope.message().incarnation();
    Long last = lastSeq.get(incarnation);
    if (last != null && envelope.seq() <= last) {
      throw new RejectedMessageException(
          Reason.REPLAYED,
          "sequence number "
              + envelope.seq()
              + " not newer than "
              + last
              + " from the same incarnation");
    }
    lastSeq.put(incarnation, envelope.seq());
  }

  /**
   * Whether {@code incarnation} sent a message with sequence number {@code seq} or a later one that
   * this guard let through: a message up to that number is a copy, whatever its timestamp.
   */
  public boolean seenSince(String incarnation, long seq) {
    Long last = lastSeq.get(incarnation);
    return last != null && seq <= last;
  }
}
