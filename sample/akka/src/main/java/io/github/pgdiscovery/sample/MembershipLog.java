package io.github.pgdiscovery.sample;

import akka.actor.AbstractActor;
import akka.actor.Address;
import akka.actor.Props;
import akka.cluster.Cluster;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;

/** The Akka node's cluster events, handed to {@link Membership}, which logs them. */
final class MembershipLog extends AbstractActor {

  private final Cluster cluster = Cluster.get(getContext().getSystem());
  private final Membership<Address> membership;

  private MembershipLog(int requiredUp) {
    membership =
        new Membership<>(
            cluster.selfAddress(),
            Member.addressOrdering(),
            requiredUp,
            () -> cluster.state().getLeader());
  }

  static Props props(int requiredUp) {
    return Props.create(MembershipLog.class, () -> new MembershipLog(requiredUp));
  }

  @Override
  public void preStart() {
    cluster.subscribe(
        getSelf(),
        ClusterEvent.initialStateAsEvents(),
        ClusterEvent.MemberEvent.class,
        ClusterEvent.ReachabilityEvent.class,
        ClusterEvent.LeaderChanged.class);
  }

  @Override
  public void postStop() {
    cluster.unsubscribe(getSelf());
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(
            ClusterEvent.MemberRemoved.class,
            event ->
                membership.memberRemoved(
                    event.member().address(), event.previousStatus().toString()))
        .match(
            ClusterEvent.MemberEvent.class,
            event -> {
              Member member = event.member();
              membership.memberChanged(
                  member.address(), member.status().toString(), member.getRoles());
            })
        .match(
            ClusterEvent.UnreachableMember.class,
            event ->
                membership.unreachable(
                    event.member().address(), event.member().status().toString()))
        .match(
            ClusterEvent.ReachableMember.class,
            event -> membership.reachable(event.member().address()))
        .match(
            ClusterEvent.LeaderChanged.class, event -> membership.leaderChanged(event.getLeader()))
        .build();
  }
}
