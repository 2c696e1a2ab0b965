package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * <p>The rules. On connect: announce, then probe (the runtime LISTENs on {@link #channels()}
 * first). Every node that announces the probed service replies at once, on the prober's reply
 * channel; so a newcomer knows everyone within a round trip. Lookups are answered once the node has
 * heard its own probe come back and {@code probe-reply-window} has passed, and while nothing makes
 * its view suspect (another live node on its own endpoint; signed peers it cannot hear because
 * their clocks are off). A node re-announces every heartbeat interval, the joined interval once it
 * has joined its cluster; every announcement states that interval and receivers scale its expiry to
 * it.
 *
 * <p>Replies go to the prober alone, on a channel derived from the main channel and the prober's
 * incarnation, which every node computes the same way: a broadcast reply would be delivered to
 * every node, so that one join of a cluster of N would cost N x N deliveries instead of N.
 */
public final class DiscoveryProtocol {

  /** How the node learns of its peers. */
  public enum Mode {
    /** The protocol: probe on connect, and answer probes at once. */
    PROBE_AND_REPLY,
    /**
     * Heartbeats only, as libcluster_postgres does: for comparison benchmarks, never for
     * production.
     */
    HEARTBEAT_ONLY
  }

  /** At most one error about nodes of another toolkit per this interval. */
  private static final long TOOLKIT_ERROR_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private static final int MAX_REMEMBERED_PROBERS = 4096;

  /**
   * How many nodes answer a probe with their view: two, so that one that crashed unnoticed costs
   * nothing. A probe asked again (attempt a) is answered by the first two and by the two ranked 2a
   * and 2a + 1: at most four rosters, and responders that crashed or are reconnecting are stepped
   * past instead of everybody being asked.
   */
  public static final int RESPONDERS = 2;

  /**
   * Probes a node sends for its own service without a roster coming back before it asks everybody,
   * unless it comes first among the nodes it knows (see {@code probesBeforeAskingEverybody}). In a
   * cold start nobody is ready to send rosters, so the first node by host and port asks everybody
   * and is answered by all, and the others are answered by its roster when they ask again; asking
   * everybody at once, all of them would be answered by all, N x N notifications. The same count
   * bounds the watched re-probe and the catch-up: each asks the next responders before everybody.
   */
  public static final int PROBES_BEFORE_ASKING_EVERYBODY = 4;

  /**
   * The same for a node that knows no other node: an empty channel, or a newcomer to a formed
   * cluster, whose members are quiet. It cannot tell them apart, so it asks once more, of the next
   * two responders as well, before asking everybody: in a formed cluster whose first responders
   * crashed or are slow, that costs two rosters instead of an announcement from every member. A
   * node that knows others and comes first among them (a cold start) asks everybody after one.
   */
  public static final int PROBES_BEFORE_THE_FIRST_ASKS_EVERYBODY = 2;

  /**
   * How long a member keeps a peer that its cluster watches: for as long as the process runs (fifty
   * years). Only the cluster (a removal), the peer (its goodbye) or a successor on its endpoint
   * take it out.
   */
  static final long WATCHED_BY_THE_CLUSTER_NANOS = TimeUnit.DAYS.toNanos(365L * 50);

  private final DiscoverySettings settings;
  private final Timing timing;
  private final Announcement self;
  private final Mode mode;
  private final RandomGenerator random;
  private final MessageCodec codec;
  private final ReplayGuard replayGuard;
  private final PeerTable peers;
  private final String replyChannel;

  // Connection.
  private boolean connected;
  private long connectedAt;
  private long connectedWallMillis;
  private boolean selfCheckReported;

  /**
   * On this connection, readiness comes from this node's own announcement coming back, not from its
   * probe.
   */
  private boolean echoOfAnnouncement;

  private final RosterParts rosters = new RosterParts();

  /**
   * No roster came within the reply window, so this node asked everybody (see {@link
   * Message.Probe#all()}), or it heard another node of its service ask everybody: either way it
   * waits out the answers.
   */
  private boolean fallbackProbed;

  private Long fallbackEchoAt;

  /**
   * How many messages this node had received when it heard that probe of everybody: a probe it
   * heard before was committed before it, so its sender, listening since before its own probe,
   * hears the probe of everybody and every answer too, and needs no roster (see {@link
   * #answerPendingProbes}).
   */
  private long fallbackHeardAfter = -1;

  /** Probes for this node's own service sent on this connection that no roster answered so far. */
  private int unansweredProbes;

  /** Per kept service: when this node heard its own probe for it come back on this connection. */
  private final Map<String, Long> probeEchoAt = new HashMap<>();

  private final Set<String> probesToSend = new LinkedHashSet<>();

  /**
   * A node that has not joined and holds watched peers asks again now and then, so that a watched
   * peer the cluster removed unheard leaves its view (see {@link Timing#watchedPeerTtlNanos()}):
   * when it last asked, and whether a whole roster (or, failing that, everybody) answered.
   */
  private long reprobedAt;

  private boolean reprobeAnswered = true;
  private Long reprobeEchoAt;

  /** Re-probes sent since the last answered one: the attempt of the next. */
  private int reprobeAttempt;

  /**
   * The attempt the next probe for this node's own service states (see {@link
   * Message.Probe#attempt()}).
   */
  private int ownProbeAttempt;

  /**
   * When this node last sent a probe of its own service that it has not yet heard back, or null.
   */
  private Long ownProbeSentAt;

  /**
   * How long this node's last such probe took from sending to its echo: the server's delay right
   * now.
   */
  private long echoLatency;

  // Announcing.
  private final Announcing heartbeats;

  private final CatchUp catchUp = new CatchUp();
  private long seq;

  // Readiness and what can spoil it.
  private boolean ready;
  private final OwnEndpointClash ownEndpoint = new OwnEndpointClash();

  private final ClockSkew skew;

  private long lastToolkitError = Long.MIN_VALUE;

  private final ProbeReplies replies;

  /**
   * Members of this node's cluster that are Up ("address#uid"), as the cluster told; see {@link
   * #memberUp}. Only the cluster adds to it, so it is bounded for memory's sake only, by twice the
   * contact points kept per service: a member forgotten here would no longer be vouched for in
   * rosters.
   */
  private final Map<String, Boolean> members;

  private final Counters counters;

  public DiscoveryProtocol(
      DiscoverySettings settings, Announcement self, Mode mode, RandomGenerator random) {
    this.settings = settings;
    this.timing = settings.timing();
    this.self = self;
    this.mode = mode;
    this.random = random;
    this.codec = new MessageCodec(settings.security().sharedSecret());
    this.replayGuard =
        codec.signs() ? new ReplayGuard(settings.security().replayWindow().toMillis()) : null;
    this.peers =
        new PeerTable(
            settings.security().maxPeersPerService(), DiscoverySettings.Security.MAX_SERVICES);
    this.replyChannel = replyChannel(settings.channel(), self.incarnation());
    this.members =
        new BoundedMap<>(
            Math.max(MAX_REMEMBERED_PROBERS, 2 * settings.security().maxPeersPerService()), false);
    this.replies = new ProbeReplies(settings.security().maxPeersPerService());
    peers.keep(self.service());
    this.counters = new Counters(settings);
    this.heartbeats = new Announcing(timing, mode == Mode.PROBE_AND_REPLY, random);
    this.skew = new ClockSkew(settings);
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
    connected = true;
    connectedAt = now;
    connectedWallMillis = wallMillis;
    selfCheckReported = false;
    probeEchoAt.clear();
    rosters.reset();
    fallbackProbed = false;
    fallbackEchoAt = null;
    fallbackHeardAfter = -1;
    replies.connected();
    unansweredProbes = 1;
    reprobedAt = now;
    reprobeAnswered = true;
    reprobeEchoAt = null;
    reprobeAttempt = 0;
    ownProbeAttempt = 0;
    ownProbeSentAt = null;
    echoLatency = 0;
    if (heartbeats.connected(now)) {
      send(out, settings.channel(), announcement(), wallMillis);
    }
    // A member of its cluster does not probe for its own service on reconnect: the cluster watches
    // its peers, it
    // looks nobody up, and it still has its table. So a database restart under a formed cluster of
    // N costs N
    // announcements, not N probes answered by N members each. Its own announcement coming back
    // shows that
    // notifications are delivered, as a probe would.
    echoOfAnnouncement =
        mode == Mode.HEARTBEAT_ONLY || heartbeats.isJoined() && heartbeats.announcing();
    if (mode == Mode.PROBE_AND_REPLY) {
      // A member probes too, with the digest of its view: it may have missed what was said while it
      // was away, and
      // members are quiet once joined. Responders whose view has the same digest answer with an
      // empty roster, so a
      // database restart under a formed cluster costs a few notifications per member, not a view
      // per member.
      probesToSend.addAll(peers.keptServices());
      sendProbes(out, now, wallMillis);
    }
    updateReadiness(out, now);
    return out;
  }

  /**
   * The connection is gone: nothing undelivered will arrive, and lookups stop until connected
   * again.
   */
  public List<Effect> disconnected(long now) {
    List<Effect> out = new ArrayList<>();
    connected = false;
    heartbeats.disconnected();
    probeEchoAt.clear();
    updateReadiness(out, now);
    return out;
  }

  /** A notification arrived on one of {@link #channels()}. */
  public List<Effect> received(String payload, long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    counters.received();
    expire(out, now);
    MessageCodec.Envelope envelope = open(payload, now, wallMillis, out);
    if (envelope != null) {
      handle(envelope, now, wallMillis, out);
    }
    updateReadiness(out, now);
    answerPendingProbes(out, now, wallMillis);
    return out;
  }

  /** Time passed: heartbeats, goodbyes, probes asked for by lookups, expiry, readiness. */
  public List<Effect> tick(long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    if (connected) {
      switch (heartbeats.tick(now)) {
        case GOODBYE -> {
          send(out, settings.channel(), new Message.Goodbye(self), wallMillis);
          out.add(
              new Effect.Notice(
                  Level.DEBUG, "Stopped announcing " + self.endpoint() + " and said goodbye"));
        }
        case ANNOUNCE -> send(out, settings.channel(), announcement(), wallMillis);
        case NOTHING -> {}
      }
      if (!ready && mode == Mode.PROBE_AND_REPLY && !echoOfAnnouncement && skew.agedOut(now)) {
        // The stale messages that kept this node waiting have aged out. Members are quiet once
        // joined, so their silence says nothing: ask again, and take a view only from answers
        // heard from now on.
        probeEchoAt.remove(self.service());
        rosters.reset();
        fallbackProbed = false;
        fallbackEchoAt = null;
        fallbackHeardAfter = -1;
        probesToSend.add(self.service());
      }
      switch (catchUp.tick(
          now,
          ready && mode == Mode.PROBE_AND_REPLY,
          timing.heartbeatInterval().toNanos(),
          () -> !mayHaveMissedAnnouncements(now),
          this::membersUnknown,
          () -> peers.rankAmongWatched(self, "", now, Integer.MAX_VALUE) * catchUpStagger())) {
        case PROBE -> probeOwnService(catchUp.attempt());
        case ASK_EVERYBODY -> askEverybody(out, now, wallMillis);
        case NOTHING -> {}
      }
      if (reprobeDue(now)) {
        reprobedAt = now;
        reprobeAnswered = false;
        reprobeEchoAt = null;
        reprobeAttempt = 0;
        rosters.forgetParts();
        probeOwnService(0);
      } else if (!reprobeAnswered
          && reprobeEchoAt != null
          && now - reprobeEchoAt >= replyWait() << Math.min(reprobeAttempt, 3)) {
        if (++reprobeAttempt < PROBES_BEFORE_ASKING_EVERYBODY) {
          // Nobody sent a whole roster in time: ask again, and the next responders answer too.
          reprobeEchoAt = null;
          probeOwnService(reprobeAttempt);
        } else {
          // Still none: everybody answers instead, and each answer keeps its sender.
          reprobeAnswered = true;
          askEverybody(out, now, wallMillis);
        }
      }
      Long echo = probeEchoAt.get(self.service());
      if (mode == Mode.PROBE_AND_REPLY
          && !echoOfAnnouncement
          && !rosters.complete()
          && !fallbackProbed
          && echo != null
          && noRosterComing(now, echo)) {
        if (unansweredProbes >= probesBeforeAskingEverybody(now)) {
          // No responder answered in time (an empty channel, a cold start, responders that
          // crashed): ask everybody.
          fallbackProbed = true;
          askEverybody(out, now, wallMillis);
        } else {
          // Somebody before this node is likely becoming ready (a cold start), or the first
          // responders crashed or
          // are reconnecting: ask again, of them and of the next two.
          unansweredProbes++;
          probeEchoAt.remove(self.service());
          probeOwnService(unansweredProbes - 1);
        }
      }
      sendProbes(out, now, wallMillis);
      if (!selfCheckReported
          && !probeEchoAt.containsKey(self.service())
          && now - connectedAt >= settings.database().connectTimeout().toNanos()) {
        selfCheckReported = true;
        out.add(
            new Effect.Notice(
                Level.ERROR,
                "Connected to channel "
                    + settings.channel()
                    + " but did not hear"
                    + " this node's own "
                    + (echoOfAnnouncement ? "announcement" : "probe")
                    + " within "
                    + DiscoverySettings.readable(settings.database().connectTimeout())
                    + ": notifications are not delivered"
                    + " on this connection. Likely causes: a pooler in transaction mode (PgBouncer, Supavisor), a read"
                    + " replica or hot standby, or a proxy that drops asynchronous messages. Point "
                    + settings.naming().key("url")
                    + " at the primary directly. Lookups keep failing until this is"
                    + " fixed."));
      }
    }
    expire(out, now);
    updateReadiness(out, now);
    answerPendingProbes(out, now, wallMillis);
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
      members.put(PeerTable.memberKey(address, uid), Boolean.TRUE);
      if (!peers.member(address, uid, WATCHED_BY_THE_CLUSTER_NANOS)) {
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
    members.remove(PeerTable.memberKey(address, uid));
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
    if (!peers.keeps(service) && peers.keep(service) && connected && mode == Mode.PROBE_AND_REPLY) {
      probesToSend.add(service);
    }
    if (!answers(service, now)) {
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
    if (connected) {
      if (heartbeats.wantsTickNow() || !probesToSend.isEmpty()) {
        return now;
      }
      next = heartbeats.nextDeadline(next);
      // Timers for a state change only while it is still ahead: one already past that did not
      // change the state is
      // held back by something with a timer of its own, and asking for a tick now would spin the
      // engine's loop.
      if (!ready) {
        next = skew.nextDeadline(next, now);
      }
      if (catchUp.armed()) {
        return now;
      }
      next = catchUp.nextDeadline(next, ready && mode == Mode.PROBE_AND_REPLY);
      if (!reprobeAnswered && reprobeEchoAt != null) {
        next =
            Deadlines.earlier(next, reprobeEchoAt + (replyWait() << Math.min(reprobeAttempt, 3)));
      } else if (reprobeWanted(now)) {
        next = Deadlines.earlier(next, reprobedAt + timing.watchedPeerTtlNanos() / 2);
      }
      Long echo = probeEchoAt.get(self.service());
      long window = timing.probeReplyWindow().toNanos();
      if (echo == null && !selfCheckReported) {
        next =
            Deadlines.earlier(next, connectedAt + settings.database().connectTimeout().toNanos());
      } else if (echo != null && !ready) {
        boolean rosterRule = mode == Mode.PROBE_AND_REPLY && !echoOfAnnouncement;
        if (!rosterRule) {
          next = Deadlines.ahead(next, echo + window, now);
        } else if (!rosters.complete() && !fallbackProbed) {
          next = Deadlines.earlier(next, echo + rosterWait());
        }
        if (fallbackEchoAt != null) {
          next = Deadlines.ahead(next, fallbackEchoAt + replyWait(), now);
        }
      }
    }
    long expiry = peers.nextExpiryNanos();
    // Long.MAX_VALUE stands for "nothing to expire": compared by difference, as readings must be,
    // it would wrap
    // and come out earlier than any negative reading (System.nanoTime may be negative).
    return expiry == Long.MAX_VALUE ? next : Deadlines.earlier(next, expiry);
  }

  private boolean isSelf(String address, long uid) {
    return address.equals(self.address()) && uid == self.uid();
  }

  // ---------------------------------------------------------------------------------------------------- state

  public boolean isReady() {
    return ready;
  }

  public boolean isConnected() {
    return connected;
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
    String channel = settings.channel();
    if (!connected) {
      return "PostgreSQL discovery channel " + channel + " is not connected";
    }
    if (ownEndpoint.active(now)) {
      return "another live node announces this node's own contact point "
          + self.endpoint()
          + " ("
          + ownEndpoint.other().address()
          + "); see the error logged";
    }
    if (!probeEchoAt.containsKey(self.service())) {
      return "PostgreSQL discovery channel "
          + channel
          + " was connected too recently, or has not heard this"
          + " node's own probe";
    }
    if (skew.active(now)) {
      return "signed messages from peers are outside "
          + settings.naming().key("replay-window")
          + " of this node's clock (clock skew); see the error logged";
    }
    return "PostgreSQL discovery channel "
        + channel
        + " is waiting "
        + DiscoverySettings.readable(timing.probeReplyWindow())
        + " for replies to its probe";
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
        ready,
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

  private MessageCodec.Envelope open(String payload, long now, long wallMillis, List<Effect> out) {
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
            reply(
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

  private void handle(MessageCodec.Envelope envelope, long now, long wallMillis, List<Effect> out) {
    Message message = envelope.message();
    skew.heardInWindow(message.incarnation());
    if (message instanceof Message.Probe probe) {
      counters.accepted();
      if (probe.senderIncarnation().equals(self.incarnation())) {
        if (ownProbeSentAt != null && probe.service().equals(self.service())) {
          echoLatency = now - ownProbeSentAt;
          ownProbeSentAt = null;
        }
        if (mode == Mode.PROBE_AND_REPLY && probe.all()) {
          waitOutProbeOfEverybody(now);
        } else if (mode == Mode.PROBE_AND_REPLY) {
          probeEchoAt.putIfAbsent(probe.service(), now);
          selfCheckReported |= probe.service().equals(self.service());
          if (!reprobeAnswered && reprobeEchoAt == null && probe.service().equals(self.service())) {
            reprobeEchoAt = now;
          }
        }
        return;
      }
      if (probe.all() && probe.service().equals(self.service())) {
        // Every node announces in answer, on the channel: this node hears the member it lacks, if
        // it is there to answer, without asking itself.
        catchUp.othersAskedEverybody();
      }
      if (mode == Mode.PROBE_AND_REPLY
          && probe.all()
          && probe.service().equals(self.service())
          && !ready
          && !echoOfAnnouncement
          && !signedBeforeThisConnection(envelope)) {
        // Everybody answers it on the channel, where this node hears the answers too: it serves
        // this node as well
        // as a probe of everybody of its own would (it committed after this node's LISTEN, or it
        // would be unheard).
        fallbackProbed = true;
        waitOutProbeOfEverybody(now);
      }
      reply(probe, now, wallMillis, out);
    } else if (message instanceof Message.Roster roster) {
      rostered(roster, now, out);
    } else if (message instanceof Message.Announce announce) {
      announced(announce, now, out);
    } else if (message instanceof Message.Goodbye goodbye) {
      counters.accepted();
      Announcement node = goodbye.node();
      ownEndpoint.goodbye(node);
      if (peers.goodbye(node)) {
        out.add(new Effect.PeerRemoved(node, "said goodbye"));
        out.add(
            new Effect.Notice(
                Level.DEBUG, "Goodbye from " + node.service() + " at " + node.endpoint()));
      }
    }
  }

  /**
   * Answers another node's probe for our service on its reply channel, once per prober within a
   * second.
   */
  private void reply(Message.Probe probe, long now, long wallMillis, List<Effect> out) {
    if (!heartbeats.announcing()
        || mode != Mode.PROBE_AND_REPLY
        || !probe.service().equals(self.service())
        || probe.senderIncarnation().equals(self.incarnation())) {
      return;
    }
    if (!probe.all() && !ready) {
      replies.hold(probe, now, counters.receivedSoFar());
      return;
    }
    if (!probe.all() && replies.coveredAlready(probe)) {
      return;
    }
    if (!probe.all() && !firstResponder(probe.senderIncarnation(), probe.attempt(), now)) {
      return;
    }
    if (replies.suppressed(probe, now)) {
      counters.replySuppressed();
      return;
    }
    if (probe.all()) {
      // On the channel, not to the prober alone: every other node waiting for a view hears the
      // answers as well, so
      // a probe of everybody in a cold start replaces the rosters each of them would otherwise
      // need. The commit
      // wakes every listening backend either way (PostgreSQL 14 to 18).
      send(out, settings.channel(), announcement(), wallMillis);
      return;
    }
    String to = replyChannel(settings.channel(), probe.senderIncarnation());
    if (probe.view() != null
        && probe.view().equals(viewDigest(self.service(), now))
        && vouchesForItsWatched(now)) {
      // The prober knows what this node knows: say so in one empty roster rather than repeat the
      // whole view.
      send(
          out,
          to,
          new Message.Roster(
              self.service(), self.incarnation(), probe.senderIncarnation(), 0, 1, List.of()),
          wallMillis);
      return;
    }
    List<Message.Roster.Entry> entries = new ArrayList<>();
    for (PeerTable.Live live : peers.live(self.service(), now)) {
      if (!live.node().incarnation().equals(probe.senderIncarnation())) {
        // Only the cluster vouches for a watched peer: a responder that is not told of it by its
        // cluster passes on
        // how long it would still keep it, so that waiting nodes cannot keep one another's stale
        // entries alive.
        boolean vouched = live.watched() && isMember(live.node());
        entries.add(
            new Message.Roster.Entry(
                live.node(),
                vouched
                    ? Message.Roster.Entry.WATCHED
                    : Math.min(ceilMillis(live.remainingNanos()), MessageCodec.MAX_TTL_MILLIS)));
      }
    }
    entries.add(
        new Message.Roster.Entry(
            self,
            heartbeats.silent()
                ? Message.Roster.Entry.WATCHED
                // Capped like every other entry: beyond the cap the prober could not read the part.
                : Math.min(
                    ceilMillis(timing.expireAfterNanos(heartbeats.interval().toMillis())),
                    MessageCodec.MAX_TTL_MILLIS)));
    List<List<Message.Roster.Entry>> parts = codec.partition(entries);
    for (int i = 0; i < parts.size(); i++) {
      send(
          out,
          to,
          new Message.Roster(
              self.service(),
              self.incarnation(),
              probe.senderIncarnation(),
              i,
              parts.size(),
              parts.get(i)),
          wallMillis);
    }
  }

  /**
   * Once ready, answers the probes heard while not, those of the last expiry only (an older prober
   * has asked again or is gone), by the same rules as a probe heard now; except those heard before
   * the probe of everybody this node waited out: their senders heard that probe and its answers
   * too.
   */
  private void answerPendingProbes(List<Effect> out, long now, long wallMillis) {
    if (!ready || !replies.holdsAny()) {
      return;
    }
    for (ProbeReplies.Pending probe : replies.takeHeld()) {
      if (probe.since() < fallbackHeardAfter) {
        replies.cover(probe.probe().senderIncarnation());
      } else if (now - probe.heardAt() <= timing.expireAfter().toNanos()
          && !peers.retired(probe.probe().senderIncarnation())) {
        reply(probe.probe(), now, wallMillis, out);
      }
    }
  }

  /**
   * A signed message stamped before this node connected: a copy played back, as a probe of
   * everybody sent then would have been committed before this node listened, and unheard. Taking
   * its answers for its own would make a newcomer ready with only what answered that copy.
   * (Unsigned messages carry no time; anyone could send them anyway.)
   */
  private boolean signedBeforeThisConnection(MessageCodec.Envelope envelope) {
    return replayGuard != null && envelope.timestampMillis() < connectedWallMillis;
  }

  /**
   * The first probe of everybody heard on this connection, this node's own or another's, is the one
   * waited out.
   */
  private void waitOutProbeOfEverybody(long now) {
    if (fallbackEchoAt == null) {
      fallbackEchoAt = now;
      fallbackHeardAfter = counters.receivedSoFar();
    }
  }

  /**
   * Whether the cluster has every watched peer this node holds Up: an empty roster keeps the
   * prober's watched peers for a whole watched stay, so it is sent only when this node's cluster
   * vouches for each of them.
   */
  private boolean vouchesForItsWatched(long now) {
    for (PeerTable.Live live : peers.live(self.service(), now)) {
      if (live.watched() && !isMember(live.node())) {
        return false;
      }
    }
    return true;
  }

  /**
   * How long a member catching up waits per member ranked before it, to hear whether one of them
   * asked everybody already: a reply window and a margin for the server's delay.
   */
  private long catchUpStagger() {
    return 2 * replyWait() + timing.probeReplyWindow().toNanos();
  }

  /**
   * Whether this node may have missed an announcement made just now: it is not connected, or its
   * connection is younger than the longest a node takes to announce again plus its delivery. A node
   * listening for longer heard every announcement made on the channel meanwhile.
   */
  private boolean mayHaveMissedAnnouncements(long now) {
    return !connected
        || now - connectedAt
            < timing.expireAfter().toNanos()
                + Announcing.longestDelayNanos(timing.heartbeatInterval())
                + timing.probeReplyWindow().toNanos();
  }

  /** Whether the cluster told this node that {@code node} is Up. */
  private boolean isMember(Announcement node) {
    return members.containsKey(PeerTable.memberKey(node.address(), node.uid()));
  }

  /** Whether the cluster told of an Up member that this node holds no contact point for. */
  private boolean membersUnknown() {
    Set<String> held = peers.memberKeys();
    for (String member : members.keySet()) {
      String withoutUid = PeerTable.memberKey(member.substring(0, member.lastIndexOf('#')), 0);
      if (!held.contains(member) && !held.contains(withoutUid)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether this node's latest probe for its own service has gone unanswered for long enough to ask
   * again: the reply window, doubled with every probe already sent (a loaded server delays rosters,
   * and asking again, or everybody, would load it more); not while parts of a roster are arriving,
   * unless they stop for 16 windows.
   */
  private boolean noRosterComing(long now, long echo) {
    return now - echo >= rosterWait();
  }

  /**
   * How long after its probe's echo this node waits for a roster before it asks again (see
   * noRosterComing).
   */
  private long rosterWait() {
    long window = replyWait();
    return !rosters.arriving() ? window << Math.min(unansweredProbes - 1, 3) : 16 * window;
  }

  /**
   * How many of its probes go unanswered before this node asks everybody. One, if it comes first,
   * by host and port, among the contact points of its service it knows, and knows some: a cold
   * start, where nobody else will be ready before it. {@value
   * #PROBES_BEFORE_THE_FIRST_ASKS_EVERYBODY} if it knows none: an empty channel, or a formed
   * cluster, whose members are quiet. Otherwise {@value #PROBES_BEFORE_ASKING_EVERYBODY}.
   */
  private int probesBeforeAskingEverybody(long now) {
    List<Announcement> known = peers.contactPoints(self.service(), self, now);
    if (!known.get(0).incarnation().equals(self.incarnation())) {
      return PROBES_BEFORE_ASKING_EVERYBODY;
    }
    return known.size() > 1 ? 1 : PROBES_BEFORE_THE_FIRST_ASKS_EVERYBODY;
  }

  /**
   * Whether this node is one of the {@value #RESPONDERS} that answer a probe with their whole view:
   * it answers lookups (so its view is complete: its own probe was answered, and it has heard
   * everything committed since it listened), it has been connected long enough to have heard what
   * came while it was away if it did not probe, it is not catching up on a member it missed, and it
   * comes first, by host and port, among the contact points it knows besides the prober; once
   * members are known (peers their cluster watches), among the members only, and only if it is one.
   * A probe asked again (its {@code attempt} a > 0) is answered by the two ranked 2a and 2a + 1 as
   * well. Every node computes the same from much the same view; if views differ for a moment, a
   * probe gets one roster more or fewer, and without any the prober asks again and at last asks
   * everybody.
   */
  private boolean firstResponder(String prober, int attempt, long now) {
    // A member that reconnected answers lookups at once, but may have missed what was said while it
    // was away: a
    // node not yet joined is heard again at its next heartbeat, so it waits the longest delay to
    // that heartbeat
    // (the interval and its jitter) and one reply window for its delivery, before it vouches for
    // anybody. (A node
    // that joined while it was away is in others' rosters, answering its own probe.)
    if (!ready
        || echoOfAnnouncement
            && now - connectedAt
                < Announcing.longestDelayNanos(timing.heartbeatInterval())
                    + timing.probeReplyWindow().toNanos()) {
      return false;
    }
    // Nor while it catches up on a member it holds no contact point for, if it connected too
    // recently to have heard everything: it may have missed more while it was away. A member that
    // has listened for longer knows what the channel knows, so when the cluster tells a quiet
    // cluster of a member nobody heard, its members keep answering newcomers.
    if (catchUp.active() && membersUnknown() && mayHaveMissedAnnouncements(now)) {
      return false;
    }
    // Ranked RESPONDERS x (attempt + 1) or later, it answers neither as one of the first nor for
    // this attempt.
    int enough = RESPONDERS * (attempt + 1);
    // Once there are members (peers that said their cluster watches them), only members answer,
    // ranked among
    // members: a node that has not joined cannot vouch for them, as only the cluster knows when one
    // leaves.
    int rank =
        heartbeats.silent()
            ? peers.rankAmongWatched(self, prober, now, enough)
            : peers.rankUnlessWatched(self, prober, now, enough);
    return rank >= 0 && (rank < RESPONDERS || attempt > 0 && rank / RESPONDERS == attempt);
  }

  /**
   * A responder's view, or one part of it, for this node's probe. Entries keep the responder's
   * remaining expiry, so that a crashed node leaves this view no later than the responder's; an
   * incarnation that said goodbye, even after the roster was sent, stays out.
   */
  private void rostered(Message.Roster roster, long now, List<Effect> out) {
    if (!roster.to().equals(self.incarnation())) {
      counters.reject(
          Reason.MISADDRESSED, "roster of " + roster.service() + " for another node", now, out);
      return;
    }
    if (!peers.keeps(roster.service())) {
      counters.reject(
          Reason.OTHER_SERVICE,
          "roster of service " + roster.service() + ", which is not looked up here",
          now,
          out);
      return;
    }
    counters.accepted();
    long longest =
        Math.max(
            timing.expireAfterNanos(timing.joinedHeartbeatInterval().toMillis()),
            timing.watchedPeerTtlNanos());
    for (Message.Roster.Entry entry : roster.entries()) {
      Announcement node = entry.node();
      if (node.sameContactPoint(self)
          || node.incarnation().equals(self.incarnation())
          || !scheme(node.address()).equals(scheme(self.address()))) {
        continue;
      }
      long ttl =
          entry.watched()
              ? watchedTtlNanos(node)
              : Math.min(longest, TimeUnit.MILLISECONDS.toNanos(entry.ttlMillis()));
      PeerTable.Admission admission = peers.vouch(node, now, ttl, connectedAt);
      if (admission == PeerTable.Admission.NEW) {
        out.add(new Effect.PeerAdded(node));
      }
      if (entry.watched()
          && (admission == PeerTable.Admission.NEW || admission == PeerTable.Admission.REFRESHED)) {
        peers.watched(node, true);
      }
    }
    if (rosters.heard(
        roster.senderIncarnation(),
        roster.part(),
        roster.parts(),
        roster.service().equals(self.service()))) {
      reprobeAnswered = true;
      if (roster.entries().isEmpty()) {
        // "Nothing you do not know": the responder holds the same view, watched peers included, so
        // they stay.
        peers.prolongWatched(
            self.service(),
            now,
            heartbeats.isJoined() ? WATCHED_BY_THE_CLUSTER_NANOS : timing.watchedPeerTtlNanos());
      }
    }
  }

  private static long ceilMillis(long nanos) {
    return Math.max(1, (nanos + 999_999) / 1_000_000);
  }

  private void announced(Message.Announce announce, long now, List<Effect> out) {
    Announcement node = announce.node();
    long expireAfter =
        announce.watched()
            ? watchedTtlNanos(node)
            : timing.expireAfterNanos(announce.intervalMillis());
    if (node.incarnation().equals(self.incarnation())) {
      counters.accepted();
      if (echoOfAnnouncement) {
        probeEchoAt.putIfAbsent(self.service(), now);
        selfCheckReported = true;
      }
      return;
    }
    if (!scheme(node.address()).equals(scheme(self.address()))) {
      otherToolkit(node, now, out);
      return;
    }
    if (node.sameContactPoint(self)) {
      counters.accepted();
      if (ownEndpoint.heard(node, now, expireAfter)) {
        counters.clash();
        out.add(
            new Effect.Notice(
                Level.ERROR,
                clashText(self, node)
                    + " This node stops answering lookups"
                    + " until the other one stops announcing (it is then dropped after its expiry)."));
      }
      return;
    }
    // The asker announces with every probe of everybody, in the same commit: a new one, on a new
    // connection, is answered although the last was answered less than a second ago.
    replies.announced(node.incarnation());
    PeerTable.Admission admission = peers.admit(node, now, expireAfter);
    peers.watched(node, announce.watched());
    switch (admission) {
      case NEW -> {
        counters.accepted();
        out.add(new Effect.PeerAdded(node));
        out.add(
            new Effect.Notice(Level.DEBUG, "Heard " + node.service() + " at " + node.endpoint()));
      }
      case REFRESHED, STALE -> counters.accepted();
      case CLASH -> {
        counters.accepted();
        counters.clash();
        out.add(new Effect.Notice(Level.ERROR, clashText(peers.holder(node), node)));
      }
      case RETIRED ->
          counters.reject(
              Reason.RETIRED,
              "announcement of "
                  + node.endpoint()
                  + " from incarnation "
                  + node.incarnation()
                  + ", which said goodbye or was removed from the cluster",
              now,
              out);
      case FULL ->
          counters.reject(
              Reason.TABLE_FULL,
              "no room for " + node.endpoint() + " in service " + node.service(),
              now,
              out);
      case OTHER_SERVICE ->
          counters.reject(
              Reason.OTHER_SERVICE,
              "service " + node.service() + " is not looked up here",
              now,
              out);
    }
  }

  /**
   * A node of the same service whose address has another scheme ({@code pekko://} heard by an Akka
   * node, say): the two toolkits' remoting cannot talk, so Bootstrap would probe it for ever.
   * Dropped, counted and logged.
   */
  private void otherToolkit(Announcement node, long now, List<Effect> out) {
    if (!node.service().equals(self.service())) {
      counters.reject(
          Reason.OTHER_SERVICE, "service " + node.service() + " is not looked up here", now, out);
      return;
    }
    counters.reject(Reason.OTHER_TOOLKIT, "announcement of " + node.address(), now, out);
    if (lastToolkitError == Long.MIN_VALUE
        || now - lastToolkitError >= TOOLKIT_ERROR_INTERVAL_NANOS) {
      lastToolkitError = now;
      out.add(
          new Effect.Notice(
              Level.ERROR,
              "A node with address "
                  + node.address()
                  + " at "
                  + node.endpoint()
                  + " announces service "
                  + self.service()
                  + " on channel "
                  + settings.channel()
                  + ", but this node's"
                  + " address is "
                  + self.address()
                  + ": nodes of different toolkits ("
                  + scheme(node.address())
                  + " and "
                  + scheme(self.address())
                  + ") cannot form one cluster, so this node ignores it. Give them different"
                  + " channels ("
                  + settings.naming().key("channel")
                  + ") or service names. Logged at most once a"
                  + " minute."));
    }
  }

  /**
   * The scheme of a remoting address, such as the part before "://"; the whole address if it has
   * none.
   */
  private static String scheme(String address) {
    int end = address.indexOf("://");
    return end < 0 ? address : address.substring(0, end);
  }

  private String clashText(Announcement a, Announcement b) {
    return "Two live nodes announce the same contact point "
        + a.endpoint()
        + " for service "
        + a.service()
        + ": "
        + a.address()
        + " (incarnation "
        + a.incarnation()
        + ") and "
        + b.address()
        + " (incarnation "
        + b.incarnation()
        + "). Cluster Bootstrap can reach only one of them there. Give every node its own"
        + " management hostname and port; a common cause is a hostname that resolves to 127.0.1.1 through"
        + " /etc/hosts on every machine.";
  }

  private void expire(List<Effect> out, long now) {
    for (PeerTable.Departure gone : peers.expire(now)) {
      out.add(new Effect.PeerRemoved(gone.node(), gone.why()));
      out.add(
          new Effect.Notice(
              Level.DEBUG,
              "Contact point "
                  + gone.node().endpoint()
                  + " of "
                  + gone.node().service()
                  + " expired: not heard within its expiry"));
    }
  }

  private void updateReadiness(List<Effect> out, long now) {
    boolean nowReady = answers(self.service(), now);
    if (nowReady != ready) {
      ready = nowReady;
      out.add(new Effect.ReadinessChanged(nowReady));
    }
  }

  /** Whether lookups of {@code service} are answered now. */
  private boolean answers(String service, long now) {
    if (!connected || ownEndpoint.active(now)) {
      return false;
    }
    boolean rosterRule =
        mode == Mode.PROBE_AND_REPLY && !echoOfAnnouncement && service.equals(self.service());
    Long echo = probeEchoAt.get(mode == Mode.HEARTBEAT_ONLY ? self.service() : service);
    if (echo == null) {
      return false;
    }
    if (rosterRule) {
      // Ready once one responder's whole view is in; with nobody answering, once everybody had time
      // to.
      if (!rosters.complete() && (fallbackEchoAt == null || now - fallbackEchoAt < replyWait())) {
        return false;
      }
    } else if (now - echo < timing.probeReplyWindow().toNanos()) {
      return false;
    }
    // Once answering, a skewed newcomer's messages must not take a formed cluster's members out of
    // service. A whole roster in hand, signed by a responder whose clock agrees with this node's,
    // is a view of the cluster, whatever else is skewed (a responder whose clock jumped, a replay):
    // the skew rule keeps apart only nodes that would each decide from what they heard themselves.
    return ready || rosters.complete() || !skew.active(now);
  }

  /**
   * Probe this node's own service at this tick, stating how many probes before this one went
   * unanswered.
   */
  private void probeOwnService(int attempt) {
    ownProbeAttempt = attempt;
    probesToSend.add(self.service());
  }

  private void sendProbes(List<Effect> out, long now, long wallMillis) {
    for (String service : probesToSend) {
      int attempt = 0;
      if (service.equals(self.service())) {
        ownProbeSentAt = now;
        attempt = ownProbeAttempt;
        ownProbeAttempt = 0;
      }
      send(
          out,
          settings.channel(),
          new Message.Probe(service, self.incarnation(), false, viewDigest(service, now), attempt),
          wallMillis);
    }
    probesToSend.clear();
  }

  /**
   * A probe that every node answers, not only the responders: the fallback when no roster comes.
   * This node's own announcement goes with it, in the same commit: other nodes waiting for a view
   * take the answers to it as theirs (see {@link #handle}), and this node answers nobody's probe of
   * everybody but it hears them all.
   */
  private void askEverybody(List<Effect> out, long now, long wallMillis) {
    ownProbeSentAt = now;
    if (heartbeats.announcing()) {
      send(out, settings.channel(), announcement(), wallMillis);
    }
    send(
        out,
        settings.channel(),
        new Message.Probe(self.service(), self.incarnation(), true),
        wallMillis);
  }

  /**
   * How long after hearing its own probe back this node waits for the answers: the reply window
   * plus twice the time that probe took to come back. On a loaded server an answer takes as long as
   * the probe did, and the responders hear the probe when this node does; asking again too soon
   * would only load the server more.
   */
  private long replyWait() {
    return timing.probeReplyWindow().toNanos() + 2 * echoLatency;
  }

  /**
   * The digest of the incarnations this node knows for {@code service}, itself included if it is
   * its own.
   */
  private String viewDigest(String service, long now) {
    List<String> incarnations = new ArrayList<>();
    for (PeerTable.Live live : peers.live(service, now)) {
      incarnations.add(live.node().incarnation());
    }
    if (service.equals(self.service())) {
      incarnations.add(self.incarnation());
    }
    return viewDigest(incarnations);
  }

  /**
   * A digest of a set of incarnations, independent of their order: the first 128 bits of SHA-256
   * over them sorted and comma-separated, base64url without padding (22 characters). Equal views
   * give equal digests; a different view gives another digest except with a chance of 2^-128.
   */
  public static String viewDigest(java.util.Collection<String> incarnations) {
    List<String> sorted = new ArrayList<>(incarnations);
    Collections.sort(sorted);
    try {
      byte[] hash =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(String.join(",", sorted).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(java.util.Arrays.copyOf(hash, 16));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }

  private void send(List<Effect> out, String channel, Message message, long wallMillis) {
    out.add(new Effect.Send(channel, codec.encode(message, ++seq, wallMillis), message));
    counters.sent(message);
  }

  private Message.Announce announcement() {
    return heartbeats.silent()
        ? Message.Announce.watched(self)
        : new Message.Announce(self, heartbeats.interval().toMillis());
  }

  /**
   * How long a peer that says its cluster watches it stays here unheard: until the cluster removes
   * it, if the cluster told this node that the peer is Up (see {@link #memberUp}); else until a
   * roster or the peer confirms it again, within {@link Timing#watchedPeerTtlNanos()}. The cluster
   * is the authority: neither a peer removed while this node was not in the cluster to hear it nor
   * a forged announcement can stay for good.
   */
  private long watchedTtlNanos(Announcement node) {
    return isMember(node) ? WATCHED_BY_THE_CLUSTER_NANOS : timing.watchedPeerTtlNanos();
  }

  /** A node waiting to join asks again, every half of a watched peer's stay, while it holds any. */
  private boolean reprobeWanted(long now) {
    return mode == Mode.PROBE_AND_REPLY
        && !heartbeats.isJoined()
        && ready
        && reprobeAnswered
        && !echoOfAnnouncement
        && peers.holdsWatched(self.service(), now);
  }

  private boolean reprobeDue(long now) {
    return reprobeWanted(now) && now - reprobedAt >= timing.watchedPeerTtlNanos() / 2;
  }

  private static Announcement nodeOf(Message message) {
    return message instanceof Message.Announce announce
        ? announce.node()
        : ((Message.Goodbye) message).node();
  }

  /**
   * The channel on which the node with {@code incarnation} hears replies to its probes: "pgd_" and
   * 32 hex digits of a hash of the main channel and the incarnation, so it is always a valid
   * identifier, differs per channel, and is not a name the sender of a probe can choose.
   */
  public static String replyChannel(String channel, String incarnation) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest((channel + "/" + incarnation).getBytes(StandardCharsets.UTF_8));
      return "pgd_" + HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }
}
