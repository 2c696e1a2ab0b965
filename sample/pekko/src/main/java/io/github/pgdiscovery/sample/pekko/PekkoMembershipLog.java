package io.github.pgdiscovery.sample.pekko;

import io.github.pgdiscovery.sample.Membership;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.Props;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;

/** The Pekko node's cluster events, handed to {@link Membership}, which logs them. */
final class PekkoMembershipLog extends AbstractActor {

  private final Cluster cluster = Cluster.get(getContext().getSystem());
  private final Membership<Address> membership;

  private PekkoMembershipLog(int requiredUp) {
    membership =
        new Membership<>(
            cluster.selfAddress(),
            Member.addressOrdering(),
            requiredUp,
            () -> cluster.state().getLeader());
  }

  static Props props(int requiredUp) {
    return Props.create(PekkoMembershipLog.class, () -> new PekkoMembershipLog(requiredUp));
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
