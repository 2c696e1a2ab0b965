package io.github.pgdiscovery.sample;

import akka.actor.AbstractActor;
import akka.actor.Address;
import akka.actor.Props;
import akka.cluster.Cluster;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs one line per membership change, and once, when this node is Up in a cluster with at least the required
 * number of Up members, the whole member list.
 *
 * <p>It keeps its own view built from the events rather than reading {@code Cluster.state()}, which is updated by
 * another subscriber and can be a step behind or ahead of the event being handled.
 */
final class MembershipLog extends AbstractActor {

  private static final Logger log = LoggerFactory.getLogger(MembershipLog.class);

  private final Cluster cluster = Cluster.get(getContext().getSystem());
  private final int requiredUp;
  private final Map<Address, Member> members = new TreeMap<>(Member.addressOrdering());
  private Address leader;
  private boolean formedLogged;

  private MembershipLog(int requiredUp) {
    this.requiredUp = requiredUp;
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
            ClusterEvent.MemberUp.class,
            event -> {
              members.put(event.member().address(), event.member());
              log.info("Member Up: {} ({} Up)", event.member().address(), upCount());
              logMembersOnceFormed();
            })
        .match(
            ClusterEvent.MemberLeft.class,
            event -> {
              members.put(event.member().address(), event.member());
              log.info("Member Left: {} ({} Up)", event.member().address(), upCount());
            })
        .match(
            ClusterEvent.MemberExited.class,
            event -> {
              members.put(event.member().address(), event.member());
              log.info("Member Exited: {} ({} Up)", event.member().address(), upCount());
            })
        .match(
            ClusterEvent.MemberRemoved.class,
            event -> {
              members.remove(event.member().address());
              log.info(
                  "Member Removed: {}, was {} ({} Up)",
                  event.member().address(),
                  event.previousStatus(),
                  upCount());
            })
        // Joining, WeaklyUp, Downed and the shutdown preparation states: kept for the member list, not logged.
        .match(ClusterEvent.MemberEvent.class, event -> members.put(event.member().address(), event.member()))
        .match(
            ClusterEvent.UnreachableMember.class,
            event -> log.warn(
                "Member Unreachable: {} ({})", event.member().address(), event.member().status()))
        .match(
            ClusterEvent.ReachableMember.class,
            event -> log.info("Member Reachable again: {}", event.member().address()))
        .match(ClusterEvent.LeaderChanged.class, event -> leader = event.getLeader())
        .build();
  }

  private long upCount() {
    return members.values().stream().filter(member -> member.status() == MemberStatus.up()).count();
  }

  private void logMembersOnceFormed() {
    Member self = members.get(cluster.selfAddress());
    if (formedLogged || self == null || self.status() != MemberStatus.up() || upCount() < requiredUp) {
      return;
    }
    formedLogged = true;
    // The leader is normally known by now; if its event is still on the way, the cluster's own view has it.
    Address shownLeader = leader != null ? leader : cluster.state().getLeader();
    List<List<String>> rows = new ArrayList<>();
    for (Member member : members.values()) {
      List<String> marks = new ArrayList<>();
      if (member.address().equals(shownLeader)) {
        marks.add("leader");
      }
      if (member.address().equals(cluster.selfAddress())) {
        marks.add("this node");
      }
      rows.add(
          List.of(
              member.address().toString(),
              member.status().toString(),
              String.join(",", new TreeSet<>(member.getRoles())),
              String.join(", ", marks)));
    }
    log.info(
        "This node is Up in a cluster of {} Up members (required-contact-point-nr {}), leader {}\n{}",
        upCount(),
        requiredUp,
        shownLeader,
        TextTable.render("  ", List.of("ADDRESS", "STATUS", "ROLES", ""), rows));
  }
}
