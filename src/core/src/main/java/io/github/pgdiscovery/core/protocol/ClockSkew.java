package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The rule of skewed clocks (with a shared secret): a message signed with this cluster's secret but
 * outside the replay window means the sender's clock or this node's is off. Until it is fixed a
 * node not yet answering lookups must not take its view for complete, or two skewed nodes could
 * each form a cluster of their own. This part remembers who was heard skewed and until when, tells
 * a copy (a replay) from news, and logs the skew at most once a minute.
 */
final class ClockSkew {

  /** At most one error about skewed clocks per this interval. */
  static final long ERROR_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private static final int MAX_REMEMBERED_SKEWED = 256;
  private static final int MAX_REMEMBERED_STALE = 4096;

  private record Skew(long seq, long lastHeard, long expireAfter, long skewMillis, String sender) {}

  private final DiscoverySettings settings;
  private final Map<String, Skew> skewed = new BoundedMap<>(MAX_REMEMBERED_SKEWED, false);

  /** The latest sequence number heard in a stale message, per incarnation, for as long as room. */
  private final Map<String, Long> staleSeqs = new BoundedMap<>(MAX_REMEMBERED_STALE, true);

  private long lastError = Long.MIN_VALUE;

  ClockSkew(DiscoverySettings settings) {
    this.settings = settings;
  }

  /**
   * A correctly signed message outside the replay window, which the sender's stated interval would
   * keep as a peer for {@code expireAfter}: remembered that long, unless it is a copy of one heard
   * before (by sequence number, however long after; or not newer than what {@code replayGuard} let
   * through), which is a replay and no news of skew.
   */
  void heard(
      MessageCodec.Envelope envelope,
      ReplayGuard replayGuard,
      long expireAfter,
      long now,
      long wallMillis,
      List<Effect> out) {
    String incarnation = envelope.message().incarnation();
    Skew before = skewed.get(incarnation);
    Long staleBefore = staleSeqs.get(incarnation);
    if (before != null && envelope.seq() <= before.seq()
        || staleBefore != null && envelope.seq() <= staleBefore
        || replayGuard.seenSince(incarnation, envelope.seq())) {
      return;
    }
    staleSeqs.put(incarnation, envelope.seq());
    long skewMillis = envelope.timestampMillis() - wallMillis;
    String sender = sender(envelope.message(), incarnation);
    skewed.put(incarnation, new Skew(envelope.seq(), now, expireAfter, skewMillis, sender));
    if (lastError == Long.MIN_VALUE || now - lastError >= ERROR_INTERVAL_NANOS) {
      lastError = now;
      out.add(
          new Effect.Notice(
              Level.ERROR,
              "Messages correctly signed by "
                  + sender
                  + " carry a clock "
                  + Math.abs(skewMillis)
                  + " ms "
                  + (skewMillis > 0 ? "ahead of" : "behind")
                  + " this node's, beyond "
                  + settings.naming().key("replay-window")
                  + " ("
                  + DiscoverySettings.readable(settings.security().replayWindow())
                  + "), so they are dropped. While it"
                  + " hears such messages a node that is not yet answering lookups keeps waiting, so that it cannot form a"
                  + " cluster of its own. Synchronise the nodes' clocks (NTP), or widen the replay window beyond the"
                  + " skew. Logged at most once a minute."));
    }
  }

  /** A message of {@code incarnation} inside the window: its clock agrees with this node's now. */
  void heardInWindow(String incarnation) {
    skewed.remove(incarnation);
  }

  /** Whether skewed messages were heard within their senders' expiry. */
  boolean active(long now) {
    for (Skew skew : skewed.values()) {
      if (now - skew.lastHeard() <= skew.expireAfter()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether skew was heard but has aged out since: then forgets it, and the caller asks again (the
   * waiting node takes a view only from answers heard from then on).
   */
  boolean agedOut(long now) {
    if (skewed.isEmpty() || active(now)) {
      return false;
    }
    skewed.clear();
    return true;
  }

  /** The largest clock difference heard recently, 0 if none; for operators. */
  long largestMillis(long now) {
    long largest = 0;
    for (Skew skew : skewed.values()) {
      if (now - skew.lastHeard() <= skew.expireAfter()
          && Math.abs(skew.skewMillis()) > Math.abs(largest)) {
        largest = skew.skewMillis();
      }
    }
    return largest;
  }

  /** {@code next}, or the earlier moment a skew ages out. */
  long nextDeadline(long next, long now) {
    for (Skew skew : skewed.values()) {
      next = Deadlines.ahead(next, skew.lastHeard() + skew.expireAfter() + 1, now);
    }
    return next;
  }

  private static String sender(Message stale, String incarnation) {
    if (stale instanceof Message.Announce announce) {
      return announce.node().address() + " at " + announce.node().endpoint();
    } else if (stale instanceof Message.Goodbye goodbye) {
      return goodbye.node().address() + " at " + goodbye.node().endpoint();
    }
    return "the node with incarnation "
        + incarnation
        + (stale instanceof Message.Probe ? " (probing)" : " (answering a probe)");
  }
}
