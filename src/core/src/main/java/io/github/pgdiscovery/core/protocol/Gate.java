package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.util.List;

/**
 * The rule of what gets in: a payload that does not decode, is too large, or is not signed with the
 * shared secret is dropped, counted and logged, and the node goes on. Signed, it must also be fresh
 * and new (see {@link ReplayGuard}); a stale one is dropped too, but it is news: of a clock that
 * disagrees with this node's (see {@link ClockSkew}), and, if it is a probe, of a prober that waits
 * for an answer it would drop, so it is answered as a probe of this node's view.
 */
final class Gate {

  private final Timing timing;
  private final MessageCodec codec;
  private final ReplayGuard replayGuard;
  private final ClockSkew skew;
  private final Responder responder;
  private final Counters counters;

  Gate(
      DiscoverySettings settings,
      MessageCodec codec,
      ClockSkew skew,
      Responder responder,
      Counters counters) {
    this.timing = settings.timing();
    this.codec = codec;
    this.replayGuard =
        codec.signs() ? new ReplayGuard(settings.security().replayWindow().toMillis()) : null;
    this.skew = skew;
    this.responder = responder;
    this.counters = counters;
  }

  /**
   * The payload opened, or null if it is dropped: counted, and logged at most once a minute per
   * reason (see {@link Counters#reject}).
   */
  MessageCodec.Envelope open(String payload, long now, long wallMillis, List<Effect> out) {
    MessageCodec.Envelope envelope;
    try {
      envelope = codec.open(payload);
    } catch (RejectedMessageException e) {
      counters.reject(e.reason(), e.getMessage(), now, out);
      return null;
    }
    if (replayGuard != null) {
      try {
        replayGuard.check(envelope, wallMillis);
      } catch (RejectedMessageException e) {
        if (e.reason() == Reason.STALE) {
          // Kept as long as the sender's stated interval would keep it as a peer: a joined member
          // announces seldom, and a newcomer must not take the quiet between two of its stale
          // heartbeats for the end of the skew.
          skew.heard(
              envelope,
              replayGuard,
              envelope.message() instanceof Message.Announce announce
                  ? timing.expireAfterNanos(announce.intervalMillis())
                  : timing.expireAfter().toNanos(),
              now,
              wallMillis,
              out);
          if (envelope.message() instanceof Message.Probe probe) {
            // Answered all the same: the reply is stale at the skewed prober, which then waits
            // instead of taking a view without us for complete. It adds or removes nobody, and is
            // rate-limited per prober. Answered as a probe of this node's view, by the first
            // responders on the prober's own channel, even if it asked everybody: a probe of
            // everybody recorded and played back would otherwise make every node announce, on the
            // channel, for each copy.
            responder.reply(
                probe.all() ? new Message.Probe(probe.service(), probe.senderIncarnation()) : probe,
                now,
                wallMillis,
                out);
          }
        }
        counters.reject(e.reason(), e.getMessage(), now, out);
        return null;
      }
    }
    return envelope;
  }
}
