package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The rule of what enters a node's view: announcements, the entries of rosters, goodbyes, and
 * expiry. An announcement keeps its sender for the expiry its stated interval implies; a roster's
 * entry for the responder's remaining expiry, capped; a peer whose cluster watches it for as long
 * as {@link ClusterMembers} says. What cannot enter (another toolkit, a retired incarnation, a full
 * table, a service not kept here, a roster for another node) is counted and dropped; a second live
 * node on one contact point is logged as a clash.
 */
final class ViewIntake {

  /** At most one error about nodes of another toolkit per this interval. */
  private static final long TOOLKIT_ERROR_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final Announcement self;
  private final DiscoverySettings settings;
  private final Timing timing;
  private final PeerTable peers;
  private final ClusterMembers members;
  private final OwnEndpointClash ownEndpoint;
  private final Responder responder;
  private final Counters counters;
  private long lastToolkitError = Long.MIN_VALUE;

  ViewIntake(
      Announcement self,
      DiscoverySettings settings,
      PeerTable peers,
      ClusterMembers members,
      OwnEndpointClash ownEndpoint,
      Responder responder,
      Counters counters) {
    this.self = self;
    this.settings = settings;
    this.timing = settings.timing();
    this.peers = peers;
    this.members = members;
    this.ownEndpoint = ownEndpoint;
    this.responder = responder;
    this.counters = counters;
  }

  /** Another node's announcement. */
  void announced(Message.Announce announce, long now, List<Effect> out) {
    Announcement node = announce.node();
    long expireAfter =
        announce.watched()
            ? members.watchedTtlNanos(node)
            : timing.expireAfterNanos(announce.intervalMillis());
    if (!sameToolkit(node)) {
      otherToolkit(node, now, out);
      return;
    }
    if (node.sameContactPoint(self)) {
      counters.accepted();
      if (ownEndpoint.heard(node, now, expireAfter)) {
        counters.clash();
        out.add(
            Notices.clash(
                self,
                node,
                " This node stops answering lookups until the other one stops announcing (it is"
                    + " then dropped after its expiry)."));
      }
      return;
    }
    // The asker announces with every probe of everybody, in the same commit: a new one, on a new
    // connection, is answered although the last was answered less than a second ago.
    responder.announced(node.incarnation());
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
        out.add(Notices.clash(peers.holder(node), node, ""));
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
   * A responder's view, or one part of it, for this node's probe. Entries keep the responder's
   * remaining expiry, so that a crashed node leaves this view no later than the responder's; an
   * incarnation that said goodbye, even after the roster was sent, stays out.
   *
   * @return whether it was taken in: addressed to this node, of a service kept here
   */
  boolean rostered(Message.Roster roster, long now, long connectedAt, List<Effect> out) {
    if (!roster.to().equals(self.incarnation())) {
      counters.reject(
          Reason.MISADDRESSED, "roster of " + roster.service() + " for another node", now, out);
      return false;
    }
    if (!peers.keeps(roster.service())) {
      counters.reject(
          Reason.OTHER_SERVICE,
          "roster of service " + roster.service() + ", which is not looked up here",
          now,
          out);
      return false;
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
          || !sameToolkit(node)) {
        continue;
      }
      // A peer this node's cluster has Up stays until the cluster removes it, whatever the
      // responder says: cluster events reach members at different moments, and one that has not
      // yet heard the peer is Up passes on how long it would keep it.
      boolean watched = entry.watched() || members.vouchesFor(node);
      long ttl =
          watched
              ? members.watchedTtlNanos(node)
              : Math.min(longest, TimeUnit.MILLISECONDS.toNanos(entry.ttlMillis()));
      PeerTable.Admission admission = peers.vouch(node, now, ttl, connectedAt);
      if (admission == PeerTable.Admission.NEW) {
        out.add(new Effect.PeerAdded(node));
      }
      if (watched
          && (admission == PeerTable.Admission.NEW || admission == PeerTable.Admission.REFRESHED)) {
        peers.watched(node, true);
      }
    }
    return true;
  }

  /**
   * "Nothing you do not know": an empty roster says the responder holds the same view, watched
   * peers included, so they stay.
   */
  void sameViewHeard(long now, boolean joined) {
    // For good only what this node's cluster has Up: the responder's cluster may not yet have told
    // it of a removal that this node's did, or the other way round.
    peers.prolongWatched(
        self.service(),
        now,
        node -> joined ? members.watchedTtlNanos(node) : timing.watchedPeerTtlNanos());
  }

  /** A node said goodbye: it leaves the view, and its incarnation is retired. */
  void goodbye(Announcement node, List<Effect> out) {
    counters.accepted();
    ownEndpoint.goodbye(node);
    if (peers.goodbye(node)) {
      out.add(new Effect.PeerRemoved(node, "said goodbye"));
      out.add(
          new Effect.Notice(
              Level.DEBUG, "Goodbye from " + node.service() + " at " + node.endpoint()));
    }
  }

  /** Drops the contact points whose expiry passed. */
  void expire(List<Effect> out, long now) {
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
      out.add(Notices.otherToolkit(node, self, settings));
    }
  }

  private boolean sameToolkit(Announcement node) {
    return Notices.scheme(node.address()).equals(Notices.scheme(self.address()));
  }
}
