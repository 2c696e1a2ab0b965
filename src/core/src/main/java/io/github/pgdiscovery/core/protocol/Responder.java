package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.util.ArrayList;
import java.util.List;

/**
 * The rule of answering a probe of this node's view: who answers, and with what. {@value
 * #RESPONDERS} nodes answer, the first by host and port among the contact points each knows besides
 * the prober, so that one that crashed unnoticed costs nothing; a probe asked again (attempt a) is
 * answered by them and by the two ranked 2a and 2a + 1, so responders that crashed or are
 * reconnecting are stepped past instead of everybody being asked: at most four rosters. Once there
 * are members (peers that said their cluster watches them), only members answer, ranked among
 * members: a node that has not joined cannot vouch for them, as only the cluster knows when one
 * leaves. Every node computes the same from much the same view; if views differ for a moment, a
 * probe gets one roster more or fewer, and without any the prober asks again and at last asks
 * everybody.
 *
 * <p>The answer is the responder's view, in as many parts as the notification size requires, or one
 * empty roster ("nothing you do not know") when the prober's digest says it holds the same.
 */
final class Responder {

  /** How many nodes answer a probe with their view. */
  static final int RESPONDERS = 2;

  private final Announcement self;
  private final Timing timing;
  private final PeerTable peers;
  private final ClusterMembers members;
  private final Announcing heartbeats;
  private final MessageCodec codec;

  Responder(
      Announcement self,
      Timing timing,
      PeerTable peers,
      ClusterMembers members,
      Announcing heartbeats,
      MessageCodec codec) {
    this.self = self;
    this.timing = timing;
    this.peers = peers;
    this.members = members;
    this.heartbeats = heartbeats;
    this.codec = codec;
  }

  /**
   * Whether this node ranks among those that answer a probe from {@code prober} stating {@code
   * attempt}: ranked RESPONDERS x (attempt + 1) or later, it answers neither as one of the first
   * nor for this attempt.
   */
  boolean ranksToAnswer(String prober, int attempt, long now) {
    int enough = RESPONDERS * (attempt + 1);
    int rank =
        heartbeats.silent()
            ? peers.rankAmongWatched(self, prober, now, enough)
            : peers.rankUnlessWatched(self, prober, now, enough);
    return rank >= 0 && (rank < RESPONDERS || attempt > 0 && rank / RESPONDERS == attempt);
  }

  /** The rosters that answer {@code probe}: this node's view, or one empty roster. */
  List<Message.Roster> answer(Message.Probe probe, long now) {
    String prober = probe.senderIncarnation();
    if (probe.view() != null
        && probe.view().equals(ViewDigest.of(peers, self.service(), self, now))
        && members.vouchForEveryWatched(peers, self.service(), now)) {
      // An empty roster keeps the prober's watched peers for a whole watched stay, so it is sent
      // only when this node's cluster vouches for each of them.
      return List.of(
          new Message.Roster(self.service(), self.incarnation(), prober, 0, 1, List.of()));
    }
    List<List<Message.Roster.Entry>> parts = codec.partition(view(prober, now));
    List<Message.Roster> rosters = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      rosters.add(
          new Message.Roster(
              self.service(), self.incarnation(), prober, i, parts.size(), parts.get(i)));
    }
    return rosters;
  }

  /**
   * This node's view for {@code prober}. Entries keep the responder's remaining expiry, so that a
   * crashed node leaves the prober's view no later than the responder's; each is capped, as beyond
   * the cap the prober could not read the part.
   */
  private List<Message.Roster.Entry> view(String prober, long now) {
    List<Message.Roster.Entry> entries = new ArrayList<>();
    for (PeerTable.Live live : peers.live(self.service(), now)) {
      if (!live.node().incarnation().equals(prober)) {
        // Only the cluster vouches for a watched peer: a responder that is not told of it by its
        // cluster passes on how long it would still keep it, so that waiting nodes cannot keep one
        // another's stale entries alive.
        boolean vouched = live.watched() && members.vouchesFor(live.node());
        entries.add(
            new Message.Roster.Entry(
                live.node(), vouched ? Message.Roster.Entry.WATCHED : ttl(live.remainingNanos())));
      }
    }
    entries.add(
        new Message.Roster.Entry(
            self,
            heartbeats.silent()
                ? Message.Roster.Entry.WATCHED
                : ttl(timing.expireAfterNanos(heartbeats.interval().toMillis()))));
    return entries;
  }

  private static long ttl(long nanos) {
    return Math.min(Math.max(1, (nanos + 999_999) / 1_000_000), MessageCodec.MAX_TTL_MILLIS);
  }
}
