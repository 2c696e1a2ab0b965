package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What a node sent, received, accepted and dropped, for the operator view; and the rule that a
 * dropped payload is counted by reason and warned about at most every 10 s, with a hint at the
 * likely cause. One owner: the protocol.
 */
final class Counters {

  /** At most one warning about rejected payloads per this interval; the rest are counted. */
  static final long REJECT_WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final DiscoverySettings settings;
  private long sent;
  private final Map<String, Long> sentByType = new TreeMap<>();
  private long received;
  private long accepted;
  private long clashes;
  private long repliesSuppressed;
  private final Map<Reason, Long> rejected = new EnumMap<>(Reason.class);
  private long lastRejectWarning = Long.MIN_VALUE;
  private long rejectsSinceWarning;

  Counters(DiscoverySettings settings) {
    this.settings = settings;
    for (Reason reason : Reason.values()) {
      rejected.put(reason, 0L);
    }
  }

  void sent(Message message) {
    sent++;
    sentByType.merge(kind(message), 1L, Long::sum);
  }

  void received() {
    received++;
  }

  /**
   * How many payloads were received so far: the operator's counter, and a position in what this
   * node heard.
   */
  long receivedSoFar() {
    return received;
  }

  void accepted() {
    accepted++;
  }

  void clash() {
    clashes++;
  }

  void replySuppressed() {
    repliesSuppressed++;
  }

  /**
   * Counts a dropped payload and warns about drops at most every 10 s, with a hint at the likely
   * cause.
   */
  void reject(Reason reason, String detail, long now, List<Effect> out) {
    rejected.merge(reason, 1L, Long::sum);
    if (!reason.warns()) {
      return;
    }
    rejectsSinceWarning++;
    if (lastRejectWarning == Long.MIN_VALUE
        || now - lastRejectWarning >= REJECT_WARNING_INTERVAL_NANOS) {
      out.add(
          new Effect.Notice(
              Level.WARN,
              "Dropped "
                  + rejectsSinceWarning
                  + " notification(s) on channel "
                  + settings.channel()
                  + ", latest: "
                  + detail
                  + " ("
                  + reason
                  + "). "
                  + hint(reason)
                  + " Further drops are logged at most every 10 s."));
      lastRejectWarning = now;
      rejectsSinceWarning = 0;
    }
  }

  long sentTotal() {
    return sent;
  }

  Map<String, Long> sentByType() {
    return Collections.unmodifiableMap(new TreeMap<>(sentByType));
  }

  long acceptedTotal() {
    return accepted;
  }

  Map<Reason, Long> rejected() {
    return new EnumMap<>(rejected);
  }

  long clashesDetected() {
    return clashes;
  }

  long repliesSuppressed() {
    return repliesSuppressed;
  }

  private String hint(Reason reason) {
    return switch (reason) {
      case MISSING_SIGNATURE, BAD_SIGNATURE ->
          "Nodes with another shared secret, or none, use this channel: a"
              + " separate cluster, or a node of this one with the wrong "
              + settings.naming().key("shared-secret")
              + ".";
      case STALE ->
          "Are the nodes' clocks synchronised? Otherwise widen "
              + settings.naming().key("replay-window")
              + ".";
      case REPLAYED -> "Somebody with access to the database may be replaying recorded messages.";
      case TABLE_FULL ->
          "More contact points announce this service than "
              + settings.naming().key("max-peers-per-service")
              + " allows; raise it if that many nodes are real.";
      default -> "Is another application, or another version of this library, using this channel?";
    };
  }

  /**
   * What a message is, for the counters: its type, with the variant that costs the server
   * differently.
   */
  private static String kind(Message message) {
    if (message instanceof Message.Announce announce) {
      return announce.watched() ? "announce-watched" : "announce";
    } else if (message instanceof Message.Probe probe) {
      return probe.all() ? "probe-all" : "probe";
    } else if (message instanceof Message.Roster roster) {
      return roster.entries().isEmpty() ? "roster-empty" : "roster-part";
    } else if (message instanceof Message.Goodbye) {
      return "goodbye";
    }
    return message.getClass().getSimpleName();
  }
}
