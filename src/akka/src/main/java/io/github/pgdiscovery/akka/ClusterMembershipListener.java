package io.github.pgdiscovery.akka;

import akka.actor.AbstractActor;
import akka.actor.Props;
import akka.cluster.Cluster;
import akka.cluster.ClusterEvent;
import io.github.pgdiscovery.core.DiscoveryEngine;

/**
 * Tells the engine about this node's membership: this node Up means it has joined, so it may
 * announce less often; this node removed means stop announcing and say goodbye; another node
 * removed means drop that incarnation's contact point now rather than at expiry.
 */
final class ClusterMembershipListener extends AbstractActor {

  private final Cluster cluster = Cluster.get(getContext().getSystem());
  private final DiscoveryEngine engine;

  private ClusterMembershipListener(DiscoveryEngine engine) {
    this.engine = engine;
  }

  static Props props(DiscoveryEngine engine) {
    return Props.create(
        ClusterMembershipListener.class, () -> new ClusterMembershipListener(engine));
  }

  @Override
  public void preStart() {
    cluster.subscribe(
        getSelf(),
        ClusterEvent.initialStateAsEvents(),
        ClusterEvent.MemberUp.class,
        ClusterEvent.MemberRemoved.class);
  }

  @Override
  public void postStop() {
    cluster.unsubscribe(getSelf());
  }

  @Override
  public Receive createReceive() {
    // What the events mean for this node (is it this node? which incarnation?) is the engine's to
    // decide.
    return receiveBuilder()
        .match(
            ClusterEvent.MemberUp.class,
            up ->
                engine.memberUp(
                    up.member().address().toString(), up.member().uniqueAddress().longUid()))
        .match(
            ClusterEvent.MemberRemoved.class,
            removed ->
                engine.memberRemoved(
                    removed.member().address().toString(),
                    removed.member().uniqueAddress().longUid()))
        .build();
  }
}
