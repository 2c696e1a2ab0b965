package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.List;

/**
 * The rule of readiness and what spoils it: lookups are answered while the node is connected, its
 * own view is complete (see {@link OwnProbe}), no other live node announces its own contact point,
 * and, until it has joined its cluster, no signed peer it cannot hear because of clock skew could
 * be missing from its view. A node that answers but has not joined is still deciding, with Cluster
 * Bootstrap, on what it heard: answering on, it could found a cluster the skewed peer never joins,
 * and the others a second one. A member is left alone: a skewed newcomer's messages must not take a
 * formed cluster out of service.
 */
final class Readiness {

  private final Announcement self;
  private final DiscoverySettings settings;
  private final Session session;
  private final OwnProbe ownProbe;
  private final OwnEndpointClash ownEndpoint;
  private final ClockSkew skew;
  private final Announcing heartbeats;
  private boolean ready;

  Readiness(
      Announcement self,
      DiscoverySettings settings,
      Session session,
      OwnProbe ownProbe,
      OwnEndpointClash ownEndpoint,
      ClockSkew skew,
      Announcing heartbeats) {
    this.self = self;
    this.settings = settings;
    this.session = session;
    this.ownProbe = ownProbe;
    this.ownEndpoint = ownEndpoint;
    this.skew = skew;
    this.heartbeats = heartbeats;
  }

  /** Whether lookups of this node's own service are answered, as of the last {@link #update}. */
  boolean ready() {
    return ready;
  }

  /** Works readiness out again, and says so if it changed. */
  void update(List<Effect> out, long now) {
    boolean nowReady = answers(self.service(), now);
    if (nowReady != ready) {
      ready = nowReady;
      out.add(new Effect.ReadinessChanged(nowReady));
    }
  }

  /** Whether lookups of {@code service} are answered now. */
  boolean answers(String service, long now) {
    if (!session.connected() || ownEndpoint.active(now) || !ownProbe.viewComplete(service, now)) {
      return false;
    }
    // A whole roster in hand, signed by a responder whose clock agrees with this node's, is a view
    // of the cluster, whatever else is skewed (a responder whose clock jumped, a replay): the skew
    // rule keeps apart only nodes that would each decide from what they heard themselves.
    return heartbeats.isJoined() || ownProbe.rosterComplete() || !skew.active(now);
  }

  /** Why lookups are not answered now, for the error a waiting lookup fails with. */
  String notReadyReason(long now) {
    String channel = settings.channel();
    if (!session.connected()) {
      return "PostgreSQL discovery channel " + channel + " is not connected";
    }
    if (ownEndpoint.active(now)) {
      return "another live node announces this node's own contact point "
          + self.endpoint()
          + " ("
          + ownEndpoint.other().address()
          + "); see the error logged";
    }
    if (!ownProbe.heardOwnProbe()) {
      return "PostgreSQL discovery channel "
          + channel
          + " was connected too recently, or has not heard this node's own probe";
    }
    if (skew.active(now)) {
      return "signed messages from peers are outside "
          + settings.naming().key("replay-window")
          + " of this node's clock (clock skew); see the error logged";
    }
    return "PostgreSQL discovery channel "
        + channel
        + " is waiting "
        + DiscoverySettings.readable(settings.timing().probeReplyWindow())
        + " for replies to its probe";
  }
}
