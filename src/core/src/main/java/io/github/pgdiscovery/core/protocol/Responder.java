package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
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
  private final String channel;
  private final Timing timing;
  private final PeerTable peers;
  private final ClusterMembers members;
  private final Announcing heartbeats;
  private final MessageCodec codec;
  private final Sender sender;
  private final Counters counters;
  private final Session session;
  private final Readiness readiness;
  private final OwnProbe ownProbe;
  private final CatchUp catchUp;
  private final ProbeReplies replies;

  /** The parts whose state decides whether and how this node answers. */
  record Parts(
      PeerTable peers,
      ClusterMembers members,
      Announcing heartbeats,
      Session session,
      Readiness readiness,
      OwnProbe ownProbe,
      CatchUp catchUp) {}

  Responder(
      Announcement self,
      DiscoverySettings settings,
      MessageCodec codec,
      Sender sender,
      Counters counters,
      Parts parts) {
    this.self = self;
    this.channel = settings.channel();
    this.timing = settings.timing();
    this.codec = codec;
    this.sender = sender;
    this.counters = counters;
    this.peers = parts.peers();
    this.members = parts.members();
    this.heartbeats = parts.heartbeats();
    this.session = parts.session();
    this.readiness = parts.readiness();
    this.ownProbe = parts.ownProbe();
    this.catchUp = parts.catchUp();
    this.replies = new ProbeReplies(settings.security().maxPeersPerService());
  }

  /** A new session: what this node waited out on the last one covers nobody now. */
  void connected() {
    replies.connected();
  }

  /** {@code incarnation} announced; see {@link ProbeReplies#announced}. */
  void announced(String incarnation) {
    replies.announced(incarnation);
  }

  /** Answers another node's probe for this node's service, if this node is to answer it. */
  void reply(Message.Probe probe, long now, long wallMillis, List<Effect> out) {
    if (!heartbeats.announcing()
        || !probe.service().equals(self.service())
        || probe.senderIncarnation().equals(self.incarnation())) {
      return;
    }
    if (!probe.all() && !readiness.ready()) {
      replies.hold(probe, now, counters.receivedSoFar());
      return;
    }
    if (!probe.all()
        && (replies.coveredAlready(probe)
            || !mayVouch(now)
            || !ranksToAnswer(probe.senderIncarnation(), probe.attempt(), now))) {
      return;
    }
    if (replies.suppressed(probe, now)) {
      counters.replySuppressed();
      return;
    }
    if (probe.all()) {
      // On the channel, not to the prober alone: every other node waiting for a view hears the
      // answers as well, so a probe of everybody in a cold start replaces the rosters each of them
      // would otherwise need. The commit wakes every listening backend either way (PostgreSQL 14
      // to 18).
      sender.send(out, channel, heartbeats.announcement(self), wallMillis);
      return;
    }
    String to = ReplyChannel.of(channel, probe.senderIncarnation());
    for (Message.Roster roster : answer(probe, now)) {
      sender.send(out, to, roster, wallMillis);
    }
  }

  /**
   * Once ready, answers the probes heard while not, those of the last expiry only (an older prober
   * has asked again or is gone), by the same rules as a probe heard now; except those heard before
   * the probe of everybody this node waited out: their senders heard that probe and its answers
   * too.
   */
  void answerHeldProbes(long now, long wallMillis, List<Effect> out) {
    if (!readiness.ready() || !replies.holdsAny()) {
      return;
    }
    for (ProbeReplies.Pending probe : replies.takeHeld()) {
      if (probe.since() < ownProbe.everybodyHeardAfter()) {
        replies.cover(probe.probe().senderIncarnation());
      } else if (now - probe.heardAt() <= timing.expireAfter().toNanos()
          && !peers.retired(probe.probe().senderIncarnation())) {
        reply(probe.probe(), now, wallMillis, out);
      }
    }
  }

  /**
   * Whether this node may answer a probe with its view: it answers lookups (so its view is
   * complete: its own probe was answered, and it has heard everything committed since it listened),
   * and it has heard what it could have missed while away. A member that reconnected answers
   * lookups at once, but a node not yet joined is heard again only at its next heartbeat, so the
   * member vouches for nobody until that heartbeat could have come. (A node that joined while it
   * was away is in others' rosters, answering its own probe.) Nor while it catches up on a member
   * it holds no contact point for, if it connected too recently to have heard everything: it may
   * have missed more while it was away. A member that has listened for longer knows what the
   * channel knows, so when the cluster tells a quiet cluster of a member nobody heard, its members
   * keep answering newcomers.
   */
  private boolean mayVouch(long now) {
    if (!readiness.ready() || !ownProbe.waitsForRosters() && session.youngerThanAHeartbeat(now)) {
      return false;
    }
    return !(catchUp.active()
        && members.anyUnheard(peers)
        && session.mayHaveMissedAnnouncements(now));
  }

  /**
   * Whether this node ranks among those that answer a probe from {@code prober} stating {@code
   * attempt}: ranked RESPONDERS x (attempt + 1) or later, it answers neither as one of the first
   * nor for this attempt.
   */
  private boolean ranksToAnswer(String prober, int attempt, long now) {
    int enough = RESPONDERS * (attempt + 1);
    int rank =
        heartbeats.silent()
            ? peers.rankAmongWatched(self, prober, now, enough)
            : peers.rankUnlessWatched(self, prober, now, enough);
    return rank >= 0 && (rank < RESPONDERS || attempt > 0 && rank / RESPONDERS == attempt);
  }

  /** The rosters that answer {@code probe}: this node's view, or one empty roster. */
  private List<Message.Roster> answer(Message.Probe probe, long now) {
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
