package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The discovery protocol of one node as a state machine: it is told what happened (connected, a
 * payload arrived, time passed, the node joined its cluster, a member was removed) and answers with
 * {@link Effect}s (payloads to send, readiness changes, peers added and removed, notices for the
 * log). It has no thread, reads no clock and does no I/O: every input carries the time, on the
 * node's monotonic clock in nanoseconds and its wall clock in milliseconds, so the same inputs
 * always give the same outputs. Not thread-safe: one owner at a time.
 *
 * <p>This class is the front: it takes the inputs and hands each to the parts, one rule each, each
 * with its own state and timers (every part answers {@code nextDeadline} for itself, so no timer is
 * worked out twice):
 *
 * <ul>
 *   <li>{@link Announcing}: heartbeats, silence once joined, goodbye;
 *   <li>{@link OwnProbe}: the node's own view: probe on connect, wait for a roster, ask again, ask
 *       everybody;
 *   <li>{@link Responder} (with {@link ProbeReplies}): who answers a probe, and with what;
 *   <li>{@link ViewIntake}: what enters the view (announcements, roster entries, goodbyes, expiry);
 *   <li>{@link Gate} (with {@link ReplayGuard}, {@link ClockSkew}): what gets in at all;
 *   <li>{@link ClusterMembers}, {@link CatchUp}, {@link WatchedReprobe}: what the cluster says, a
 *       member it says is Up that nobody heard, watched peers of a node waiting to join;
 *   <li>{@link Readiness} (with {@link OwnEndpointClash}): when lookups are answered, and what
 *       spoils it;
 *   <li>{@link Session}, {@link Sender}, {@link Counters}: the connection, sending, counting.
 * </ul>
 *
 * <p>Replies go to the prober alone, on its {@link ReplyChannel}: a broadcast reply would be
 * delivered to every node, so that one join of a cluster of N would cost N x N deliveries instead
 * of N.
 */
public final class DiscoveryProtocol implements Protocol {

  /** How many nodes answer a probe with their view; see {@link Responder}. */
  public static final int RESPONDERS = Responder.RESPONDERS;

  /** See {@link OwnProbe#PROBES_BEFORE_ASKING_EVERYBODY}. */
  public static final int PROBES_BEFORE_ASKING_EVERYBODY = OwnProbe.PROBES_BEFORE_ASKING_EVERYBODY;

  /** See {@link OwnProbe#PROBES_BEFORE_THE_FIRST_ASKS_EVERYBODY}. */
  public static final int PROBES_BEFORE_THE_FIRST_ASKS_EVERYBODY =
      OwnProbe.PROBES_BEFORE_THE_FIRST_ASKS_EVERYBODY;

  private final DiscoverySettings settings;
  private final Timing timing;
  private final Announcement self;
  private final MessageCodec codec;
  private final PeerTable peers;
  private final String replyChannel;
  private final Counters counters;

  // The parts, one rule each.
  private final Announcing heartbeats;
  private final OwnProbe ownProbe;
  private final Responder responder;
  private final WatchedReprobe reprobe;
  private final CatchUp catchUp = new CatchUp();
  private final ClusterMembers members;
  private final OwnEndpointClash ownEndpoint = new OwnEndpointClash();
  private final ClockSkew skew;
  private final ViewIntake intake;
  private final Gate gate;

  private final Session session;
  private final Readiness readiness;
  private final Sender sender;

  public DiscoveryProtocol(DiscoverySettings settings, Announcement self, RandomGenerator random) {
    this.settings = settings;
    this.timing = settings.timing();
    this.self = self;
    this.codec = new MessageCodec(settings.security().sharedSecret());
    int maxPeers = settings.security().maxPeersPerService();
    this.peers = new PeerTable(maxPeers, DiscoverySettings.Security.MAX_SERVICES);
    this.replyChannel = ReplyChannel.of(settings.channel(), self.incarnation());
    peers.keep(self.service());
    this.counters = new Counters(settings);
    this.sender = new Sender(codec, counters);
    this.session = new Session(timing, codec.signs());
    this.heartbeats = new Announcing(timing, random);
    this.ownProbe = new OwnProbe(self, timing, peers);
    this.members = new ClusterMembers(maxPeers, timing.watchedPeerTtlNanos());
    this.reprobe = new WatchedReprobe(timing.watchedPeerTtlNanos());
    this.skew = new ClockSkew(settings);
    this.readiness =
        new Readiness(self, settings, session, ownProbe, ownEndpoint, skew, heartbeats);
    this.responder =
        new Responder(
            self,
            settings,
            codec,
            sender,
            counters,
            new Responder.Parts(peers, members, heartbeats, session, readiness, ownProbe, catchUp));
    this.intake = new ViewIntake(self, settings, peers, members, ownEndpoint, responder, counters);
    this.gate = new Gate(settings, codec, skew, responder, counters);
    // Encoding our own announcement here fails fast, at start, on a name too long for a
    // notification.
    codec.encode(new Message.Announce(self, timing.joinedHeartbeatInterval().toMillis()));
  }

  public Announcement self() {
    return self;
  }

  public DiscoverySettings settings() {
    return settings;
  }

  /**
   * The channels to LISTEN on before {@link #connected}: the main one, and this node's reply
   * channel.
   */
  public List<String> channels() {
    return List.of(settings.channel(), replyChannel);
  }

  // ---------------------------------------------------------------------------------------------------- inputs

  /** The connection is up and listening on {@link #channels()}: announce, then probe. */
  public List<Effect> connected(long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    session.connected(now, wallMillis);
    responder.connected();
    reprobe.connected(now);
    boolean announce = heartbeats.connected(now);
    // A member of its cluster needs no roster on reconnect: the cluster watches its peers, it looks
    // nobody up, and it still has its table. So a database restart under a formed cluster of N
    // costs N announcements, not N probes answered by N members each. Its own announcement coming
    // back shows that notifications are delivered, as a probe would.
    ownProbe.connected(heartbeats.isJoined() && heartbeats.announcing());
    if (announce) {
      sender.send(out, settings.channel(), heartbeats.announcement(self), wallMillis);
    }
    sendProbes(out, now, wallMillis);
    readiness.update(out, now);
    return out;
  }

  /**
   * The connection is gone: nothing undelivered will arrive, and lookups stop until connected
   * again.
   */
  public List<Effect> disconnected(long now) {
    List<Effect> out = new ArrayList<>();
    session.disconnected();
    heartbeats.disconnected();
    ownProbe.disconnected();
    readiness.update(out, now);
    return out;
  }

  /** A notification arrived on one of {@link #channels()}. */
  public List<Effect> received(String payload, long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    counters.received();
    intake.expire(out, now);
    MessageCodec.Envelope envelope = gate.open(payload, now, wallMillis, out);
    if (envelope != null) {
      handle(envelope, now, wallMillis, out);
    }
    readiness.update(out, now);
    responder.answerHeldProbes(now, wallMillis, out);
    return out;
  }

  /** Time passed: heartbeats, goodbyes, probes asked for by lookups, expiry, readiness. */
  public List<Effect> tick(long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    if (session.connected()) {
      switch (heartbeats.tick(now)) {
        case GOODBYE -> {
          sender.send(out, settings.channel(), new Message.Goodbye(self), wallMillis);
          out.add(
              new Effect.Notice(
                  Level.DEBUG, "Stopped announcing " + self.endpoint() + " and said goodbye"));
        }
        case ANNOUNCE ->
            sender.send(out, settings.channel(), heartbeats.announcement(self), wallMillis);
        case NOTHING -> {}
      }
      if (!readiness.ready() && ownProbe.waitsForRosters() && skew.agedOut(now)) {
        ownProbe.askAnew();
      }
      switch (catchUp.tick(
          now,
          readiness.ready(),
          timing.heartbeatInterval().toNanos(),
          () -> !session.mayHaveMissedAnnouncements(now),
          () -> members.anyUnheard(peers),
          () -> peers.rankAmongWatched(self, "", now, Integer.MAX_VALUE) * catchUpStagger())) {
        case PROBE -> ownProbe.probeOwnService(catchUp.attempt());
        case ASK_EVERYBODY -> askEverybody(out, now, wallMillis);
        case NOTHING -> {}
      }
      switch (reprobe.tick(now, reprobeEligible(now), ownProbe.replyWait())) {
        case PROBE -> {
          if (reprobe.attempt() == 0) {
            ownProbe.forgetRosterParts();
          }
          ownProbe.probeOwnService(reprobe.attempt());
        }
        case ASK_EVERYBODY -> askEverybody(out, now, wallMillis);
        case NOTHING -> {}
      }
      if (ownProbe.tick(now) == OwnProbe.Step.ASK_EVERYBODY) {
        askEverybody(out, now, wallMillis);
      }
      sendProbes(out, now, wallMillis);
      long timeout = settings.database().connectTimeout().toNanos();
      if (ownProbe.selfCheckFailed(now, session.since(), timeout)) {
        out.add(
            Notices.notDelivered(settings, ownProbe.waitsForRosters() ? "probe" : "announcement"));
      }
    }
    intake.expire(out, now);
    readiness.update(out, now);
    responder.answerHeldProbes(now, wallMillis, out);
    return out;
  }

  /**
   * This node has joined its cluster: from its next heartbeat on it announces at the joined
   * interval, stating it. The cluster itself now watches the node; discovery only keeps it
   * findable. Idempotent.
   */
  public List<Effect> joined() {
    if (!heartbeats.joined()) {
      return List.of();
    }
    if (heartbeats.silent()) {
      return List.of(
          new Effect.Notice(
              Level.DEBUG,
              "Joined the cluster: announcing once that the cluster watches"
                  + " this node, then no more heartbeats"));
    }
    return List.of(
        new Effect.Notice(
            Level.DEBUG,
            "Joined the cluster: announcing every "
                + DiscoverySettings.readable(timing.joinedHeartbeatInterval())
                + " from the next heartbeat on"));
  }

  /**
   * Stop heartbeats and say goodbye at the next tick; the node keeps listening and answering
   * lookups.
   */
  public List<Effect> stopAnnouncing() {
    heartbeats.stop();
    return List.of();
  }

  /**
   * The cluster says the member with this address and uid is Up: if it is this node, it has joined.
   */
  public List<Effect> memberUp(String address, long uid) {
    if (isSelf(address, uid)) {
      return joined();
    }
    if (timing.silentOnceJoined()) {
      // A member of this node's cluster: kept until the cluster removes it, as this node will hear.
      members.up(address, uid);
      if (!peers.member(address, uid, ClusterMembers.WATCHED_BY_THE_CLUSTER_NANOS)) {
        catchUp.memberUnheard();
      }
    }
    return List.of();
  }

  /**
   * The cluster removed the member with this address and uid: if it is this node, stop announcing
   * and say goodbye; otherwise drop and retire that member's contact points. Address and uid: a
   * node restarted on the same host and port is a new member with another uid, and the removal of
   * its predecessor must leave it alone.
   */
  public List<Effect> memberRemoved(String address, long uid) {
    List<Effect> out = new ArrayList<>();
    if (isSelf(address, uid)) {
      heartbeats.stop();
      return out;
    }
    members.removed(address, uid);
    for (Announcement gone : peers.memberRemoved(address, uid)) {
      out.add(new Effect.PeerRemoved(gone, "removed from the cluster"));
      out.add(
          new Effect.Notice(
              Level.DEBUG,
              "Forgot "
                  + gone.endpoint()
                  + " of "
                  + gone.service()
                  + ": "
                  + address
                  + " was removed from the cluster"));
    }
    return out;
  }

  /**
   * The contact points of {@code service}, this node included when it belongs to it; empty while
   * lookups of that service are not answered (see {@link #notReadyReason}). A service this node has
   * not kept so far is kept from now on and probed at the next tick, so that its first lookup waits
   * for the replies instead of seeing nobody.
   */
  public Optional<List<Announcement>> lookup(String service, long now) {
    if (!peers.keeps(service) && peers.keep(service) && session.connected()) {
      ownProbe.probe(service);
    }
    if (!readiness.answers(service, now)) {
      return Optional.empty();
    }
    return Optional.of(peers.contactPoints(service, self, now));
  }

  /**
   * When this protocol next needs a {@link #tick}, on the monotonic clock; at most a second ahead
   * of now.
   */
  public long nextDeadline(long now) {
    long next = now + TimeUnit.SECONDS.toNanos(1);
    if (session.connected()) {
      if (heartbeats.wantsTickNow() || ownProbe.wantsTickNow() || catchUp.armed()) {
        return now;
      }
      next = heartbeats.nextDeadline(next);
      // Timers for a state change only while it is still ahead: one already past that did not
      // change the state is held back by something with a timer of its own, and asking for a tick
      // now would spin the engine's loop.
      if (!readiness.ready()) {
        next = skew.nextDeadline(next, now);
      }
      next = catchUp.nextDeadline(next, readiness.ready());
      next = reprobe.nextDeadline(next, reprobeEligible(now), ownProbe.replyWait());
      next =
          ownProbe.nextDeadline(
              next,
              now,
              readiness.ready(),
              session.since() + settings.database().connectTimeout().toNanos());
    }
    long expiry = peers.nextExpiryNanos();
    // Long.MAX_VALUE stands for "nothing to expire": compared by difference, as readings must be,
    // it would wrap and come out earlier than any negative reading (System.nanoTime may be
    // negative).
    return expiry == Long.MAX_VALUE ? next : Deadlines.earlier(next, expiry);
  }

  private boolean isSelf(String address, long uid) {
    return address.equals(self.address()) && uid == self.uid();
  }

  // ---------------------------------------------------------------------------------------------------- state

  public boolean isReady() {
    return readiness.ready();
  }

  public boolean isConnected() {
    return session.connected();
  }

  /**
   * The cluster reported this node Up, and it has neither been removed nor begun to shut down: a
   * member that needs no discovery to stay one.
   */
  public boolean isUpInCluster() {
    return heartbeats.isJoined() && heartbeats.requested();
  }

  /** Why lookups are not answered now, for the error a waiting lookup fails with. */
  public String notReadyReason(long now) {
    return readiness.notReadyReason(now);
  }

  /** What an operator sees of the protocol; see {@code EngineStatus}. */
  public Snapshot snapshot(long now) {
    List<PeerTable.Clash> clashList = new ArrayList<>(peers.clashes(now));
    if (ownEndpoint.active(now)) {
      clashList.add(new PeerTable.Clash(self, ownEndpoint.other()));
    }
    long maxSkew = skew.largestMillis(now);
    // Zero (off) once the node is quiet: joined, and its announcement that its cluster watches it
    // sent.
    return new Snapshot(
        readiness.ready(),
        heartbeats.requested(),
        heartbeats.quiet() ? Duration.ZERO : heartbeats.interval(),
        peers.snapshot(now),
        clashList,
        maxSkew,
        counters.sentTotal(),
        counters.sentByType(),
        counters.receivedSoFar(),
        counters.acceptedTotal(),
        counters.rejected(),
        counters.clashesDetected(),
        counters.repliesSuppressed());
  }

  /**
   * The protocol's part of the operator view.
   *
   * @param clashes live incarnations announcing one contact point now, this node's own included
   * @param clockSkewMillis the largest clock difference measured recently in a validly signed but
   *     stale message, 0 if none
   * @param clashesDetected clashes detected since start
   * @param repliesSuppressed probes not answered because the same prober was answered just before
   * @param sentByType what was sent, by kind, sorted by name: announce, announce-watched, goodbye,
   *     probe, probe-all, roster-part, roster-empty
   */
  public record Snapshot(
      boolean ready,
      boolean announcing,
      Duration heartbeatInterval,
      List<PeerTable.HeardPeer> peers,
      List<PeerTable.Clash> clashes,
      long clockSkewMillis,
      long sent,
      Map<String, Long> sentByType,
      long received,
      long accepted,
      Map<Reason, Long> rejected,
      long clashesDetected,
      long repliesSuppressed) {}

  // ---------------------------------------------------------------------------------------------------- rules

  private void handle(MessageCodec.Envelope envelope, long now, long wallMillis, List<Effect> out) {
    Message message = envelope.message();
    skew.heardInWindow(message.incarnation());
    if (message instanceof Message.Probe probe) {
      counters.accepted();
      if (probe.senderIncarnation().equals(self.incarnation())) {
        if (ownProbe.heardOwn(probe, now, counters.receivedSoFar())) {
          reprobe.echoed(now);
        }
        return;
      }
      if (probe.all() && probe.service().equals(self.service())) {
        // Every node announces in answer, on the channel: this node hears the member it lacks, if
        // it is there to answer, without asking itself.
        catchUp.othersAskedEverybody();
        if (!readiness.ready() && ownProbe.waitsForRosters() && !session.stampedBefore(envelope)) {
          // It committed after this node's LISTEN, or it would be unheard.
          ownProbe.othersAskEverybody(now, counters.receivedSoFar());
        }
      }
      responder.reply(probe, now, wallMillis, out);
    } else if (message instanceof Message.Roster roster) {
      if (intake.rostered(roster, now, session.since(), out)
          && ownProbe.rosterHeard(
              roster.senderIncarnation(),
              roster.part(),
              roster.parts(),
              roster.service().equals(self.service()))) {
        reprobe.answered();
        if (roster.entries().isEmpty()) {
          intake.sameViewHeard(now, heartbeats.isJoined());
        }
      }
    } else if (message instanceof Message.Announce announce) {
      if (announce.node().incarnation().equals(self.incarnation())) {
        counters.accepted();
        ownProbe.heardOwnAnnouncement(now);
      } else {
        intake.announced(announce, now, out);
      }
    } else if (message instanceof Message.Goodbye goodbye) {
      intake.goodbye(goodbye.node(), out);
    }
  }

  /**
   * How long a member catching up waits per member ranked before it, to hear whether one of them
   * asked everybody already: a reply window and a margin for the server's delay.
   */
  private long catchUpStagger() {
    return 2 * ownProbe.replyWait() + timing.probeReplyWindow().toNanos();
  }

  private void sendProbes(List<Effect> out, long now, long wallMillis) {
    for (Message.Probe probe : ownProbe.takeProbes(now)) {
      sender.send(out, settings.channel(), probe, wallMillis);
    }
  }

  /**
   * A probe that every node answers, not only the responders: the fallback when no roster comes.
   * This node's own announcement goes with it, in the same commit: other nodes waiting for a view
   * take the answers to it as theirs (see {@link #handle}), and this node answers nobody's probe of
   * everybody but it hears them all.
   */
  private void askEverybody(List<Effect> out, long now, long wallMillis) {
    ownProbe.askingEverybody(now);
    if (heartbeats.announcing()) {
      sender.send(out, settings.channel(), heartbeats.announcement(self), wallMillis);
    }
    sender.send(
        out,
        settings.channel(),
        new Message.Probe(self.service(), self.incarnation(), true),
        wallMillis);
  }

  /**
   * Whether this node asks for views again now and then (see {@link WatchedReprobe}): it probes for
   * its view, answers lookups, has not joined, and holds peers whose cluster watches them.
   */
  private boolean reprobeEligible(long now) {
    return !heartbeats.isJoined()
        && readiness.ready()
        && ownProbe.waitsForRosters()
        && peers.holdsWatched(self.service(), now);
  }
}
