package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rule of a node's own view: on connect it probes each service it keeps; its view of its own
 * service is complete once one responder's whole roster is in, or, with nobody answering, once
 * everybody had time to answer a probe of everybody. Without a roster it asks again, of the next
 * responders too, waiting longer each time, and at last asks everybody. A node that is a member of
 * its cluster when it connects needs no roster: it has its table, the cluster watches its peers,
 * and its own announcement coming back shows that notifications are delivered.
 *
 * <p>The part keeps the probing state of one connection and its timers; the protocol sends.
 */
final class OwnProbe {

  /** What the protocol does at a tick. */
  enum Step {
    NOTHING,
    ASK_EVERYBODY
  }

  /**
   * Probes a node sends for its own service without a roster coming back before it asks everybody,
   * unless it comes first among the nodes it knows (see {@link #probesBeforeAskingEverybody}). In a
   * cold start nobody is ready to send rosters, so the first node by host and port asks everybody
   * and is answered by all, and the others are answered by its roster when they ask again; asking
   * everybody at once, all of them would be answered by all, N x N notifications. The same count
   * bounds the watched re-probe and the catch-up: each asks the next responders before everybody.
   */
  static final int PROBES_BEFORE_ASKING_EVERYBODY = 4;

  /**
   * The same for a node that knows no other node: an empty channel, or a newcomer to a formed
   * cluster, whose members are quiet. It cannot tell them apart, so it asks once more, of the next
   * two responders as well, before asking everybody: in a formed cluster whose first responders
   * crashed or are slow, that costs two rosters instead of an announcement from every member. A
   * node that knows others and comes first among them (a cold start) asks everybody after one.
   */
  static final int PROBES_BEFORE_THE_FIRST_ASKS_EVERYBODY = 2;

  private final Announcement self;
  private final Timing timing;
  private final PeerTable peers;
  private final RosterParts rosters = new RosterParts();

  /** Per kept service: when this node heard its own probe for it come back on this connection. */
  private final Map<String, Long> echoAt = new HashMap<>();

  private final Set<String> toSend = new LinkedHashSet<>();

  /**
   * On this connection, readiness comes from this node's own announcement coming back, not from its
   * probe.
   */
  private boolean echoOfAnnouncement;

  private boolean selfCheckDone;

  /** Probes for this node's own service sent on this connection that no roster answered so far. */
  private int unanswered;

  /** The attempt the next probe for this node's own service states. */
  private int nextAttempt;

  /** When this node last sent a probe of its own service it has not heard back yet, or null. */
  private Long sentAt;

  /**
   * How long this node's last such probe took from sending to its echo: the server's delay right
   * now.
   */
  private long echoLatency;

  /**
   * No roster came within the reply window, so this node asked everybody, or it heard another node
   * of its service ask everybody: either way it waits out the answers.
   */
  private boolean askedEverybody;

  private Long everybodyEchoAt;

  /**
   * How many messages this node had received when it heard that probe of everybody: a prober heard
   * before was listening since before it, so it hears that probe and every answer too, and needs no
   * roster.
   */
  private long everybodyHeardAfter = -1;

  OwnProbe(Announcement self, Timing timing, PeerTable peers) {
    this.self = self;
    this.timing = timing;
    this.peers = peers;
  }

  /**
   * A new connection: nothing heard on it yet; every kept service is probed. With {@code
   * echoOfAnnouncement} (a member reconnecting) the node's own announcement coming back makes it
   * ready; it needs no roster.
   */
  void connected(boolean echoOfAnnouncement) {
    this.echoOfAnnouncement = echoOfAnnouncement;
    selfCheckDone = false;
    echoAt.clear();
    rosters.reset();
    forgetEverybody();
    unanswered = 1;
    nextAttempt = 0;
    sentAt = null;
    echoLatency = 0;
    // A member probes too, with the digest of its view: it may have missed what was said while it
    // was away, and members are quiet once joined. Responders whose view has the same digest answer
    // with an empty roster, so a database restart under a formed cluster costs a few notifications
    // per member, not a view per member.
    toSend.addAll(peers.keptServices());
  }

  void disconnected() {
    echoAt.clear();
  }

  /**
   * The stale messages that kept this node waiting aged out. Members are quiet once joined, so
   * their silence says nothing: ask again, and take a view only from answers heard from now on.
   */
  void askAnew() {
    echoAt.remove(self.service());
    rosters.reset();
    forgetEverybody();
    toSend.add(self.service());
  }

  /**
   * Whether this node's view of its own service comes from rosters on this connection: it probes,
   * and it was not a member of its cluster when it connected.
   */
  boolean waitsForRosters() {
    return !echoOfAnnouncement;
  }

  private void forgetEverybody() {
    askedEverybody = false;
    everybodyEchoAt = null;
    everybodyHeardAfter = -1;
  }

  /** Probe {@code service} at the next tick: a lookup of a service not kept so far. */
  void probe(String service) {
    toSend.add(service);
  }

  /** Probe this node's own service at this tick, stating how many probes before it went unheard. */
  void probeOwnService(int attempt) {
    nextAttempt = attempt;
    toSend.add(self.service());
  }

  /** Takes the probes to send now. */
  List<Message.Probe> takeProbes(long now) {
    List<Message.Probe> probes = new ArrayList<>();
    for (String service : toSend) {
      int attempt = 0;
      if (service.equals(self.service())) {
        sentAt = now;
        attempt = nextAttempt;
        nextAttempt = 0;
      }
      probes.add(
          new Message.Probe(
              service,
              self.incarnation(),
              false,
              ViewDigest.of(peers, service, self, now),
              attempt));
    }
    toSend.clear();
    return probes;
  }

  /** This node asks everybody now (its own fallback, or another part's). */
  void askingEverybody(long now) {
    sentAt = now;
  }

  /**
   * This node's own probe came back.
   *
   * @param received how many payloads this node has received so far
   * @return whether it is an echo of a probe of its own view of its own service
   */
  boolean heardOwn(Message.Probe probe, long now, long received) {
    boolean ownService = probe.service().equals(self.service());
    if (sentAt != null && ownService) {
      echoLatency = now - sentAt;
      sentAt = null;
    }
    if (probe.all()) {
      waitOutProbeOfEverybody(now, received);
      return false;
    }
    echoAt.putIfAbsent(probe.service(), now);
    selfCheckDone |= ownService;
    return ownService;
  }

  /**
   * Another node of this service asks everybody, and this node, not yet answering lookups, heard it
   * after it listened: everybody answers on the channel, where this node hears the answers too, so
   * it serves this node as well as a probe of everybody of its own would.
   */
  void othersAskEverybody(long now, long received) {
    askedEverybody = true;
    waitOutProbeOfEverybody(now, received);
  }

  /**
   * The first probe of everybody heard on this connection, this node's own or another's, is the one
   * waited out.
   */
  private void waitOutProbeOfEverybody(long now, long received) {
    if (everybodyEchoAt == null) {
      everybodyEchoAt = now;
      everybodyHeardAfter = received;
    }
  }

  /** This node's own announcement came back. */
  void heardOwnAnnouncement(long now) {
    if (echoOfAnnouncement) {
      echoAt.putIfAbsent(self.service(), now);
      selfCheckDone = true;
    }
  }

  /**
   * Part {@code part} of {@code parts} of a roster from {@code responder}.
   *
   * @return whether that completed a whole view of this node's own service
   */
  boolean rosterHeard(String responder, int part, int parts, boolean ownService) {
    return rosters.heard(responder, part, parts, ownService);
  }

  /** A new round of asking: parts heard so far belong to the last. */
  void forgetRosterParts() {
    rosters.forgetParts();
  }

  /** One responder's whole view of this node's own service came in on this connection. */
  boolean rosterComplete() {
    return rosters.complete();
  }

  /** How many payloads this node had received when it heard the probe of everybody it waits out. */
  long everybodyHeardAfter() {
    return everybodyHeardAfter;
  }

  boolean heardOwnProbe() {
    return echoAt.containsKey(self.service());
  }

  boolean wantsTickNow() {
    return !toSend.isEmpty();
  }

  /** Asks again or asks everybody when no roster came in time. */
  Step tick(long now) {
    Long echo = echoAt.get(self.service());
    if (echoOfAnnouncement
        || rosters.complete()
        || askedEverybody
        || echo == null
        || now - echo < rosterWait()) {
      return Step.NOTHING;
    }
    if (unanswered >= probesBeforeAskingEverybody(now)) {
      // No responder answered in time (an empty channel, a cold start, responders that crashed).
      askedEverybody = true;
      return Step.ASK_EVERYBODY;
    }
    // Somebody before this node is likely becoming ready (a cold start), or the first responders
    // crashed or are reconnecting: ask again, of them and of the next two.
    unanswered++;
    echoAt.remove(self.service());
    probeOwnService(unanswered - 1);
    return Step.NOTHING;
  }

  /**
   * Whether notifications seem not to be delivered: nothing of this node's own came back within
   * {@code timeoutNanos} of connecting. True once per connection.
   */
  boolean selfCheckFailed(long now, long connectedAt, long timeoutNanos) {
    if (selfCheckDone || heardOwnProbe() || now - connectedAt < timeoutNanos) {
      return false;
    }
    selfCheckDone = true;
    return true;
  }

  /**
   * Whether this node has heard enough to answer lookups of {@code service}, as far as it knows.
   */
  boolean viewComplete(String service, long now) {
    Long echo = echoAt.get(service);
    if (echo == null) {
      return false;
    }
    if (!echoOfAnnouncement && service.equals(self.service())) {
      // Ready once one responder's whole view is in; with nobody answering, once everybody had time
      // to.
      return rosters.complete() || everybodyEchoAt != null && now - everybodyEchoAt >= replyWait();
    }
    return now - echo >= timing.probeReplyWindow().toNanos();
  }

  /** {@code next}, or the earlier moment this part acts. */
  long nextDeadline(long next, long now, boolean ready, long selfCheckAt) {
    Long echo = echoAt.get(self.service());
    if (echo == null && !selfCheckDone) {
      return Deadlines.earlier(next, selfCheckAt);
    }
    if (echo == null || ready) {
      return next;
    }
    if (echoOfAnnouncement) {
      next = Deadlines.ahead(next, echo + timing.probeReplyWindow().toNanos(), now);
    } else if (!rosters.complete() && !askedEverybody) {
      next = Deadlines.earlier(next, echo + rosterWait());
    }
    return everybodyEchoAt == null
        ? next
        : Deadlines.ahead(next, everybodyEchoAt + replyWait(), now);
  }

  /**
   * How long after hearing its own probe back this node waits for the answers: the reply window
   * plus twice the time that probe took to come back. On a loaded server an answer takes as long as
   * the probe did, and the responders hear the probe when this node does; asking again too soon
   * would only load the server more.
   */
  long replyWait() {
    return timing.probeReplyWindow().toNanos() + 2 * echoLatency;
  }

  /**
   * How long after its probe's echo this node waits for a roster before it asks again: the reply
   * wait, doubled with every probe already sent (a loaded server delays rosters, and asking again,
   * or everybody, would load it more); while parts of a roster are arriving, 16 reply waits.
   */
  private long rosterWait() {
    long window = replyWait();
    return !rosters.arriving() ? window << Math.min(unanswered - 1, 3) : 16 * window;
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
}
