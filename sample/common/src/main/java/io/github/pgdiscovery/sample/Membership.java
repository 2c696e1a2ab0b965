package io.github.pgdiscovery.sample;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The members one node knows of, kept from its cluster events, and what the sample logs about them:
 * one line per membership change, and once, when this node is Up in a cluster with at least the
 * required number of Up members, the whole member list. The same for the Akka and the Pekko node,
 * whose membership log actors hand their events to it; {@code A} is the toolkit's address type.
 *
 * <p>It keeps its own view built from the events rather than reading the cluster's current state,
 * which is updated by another subscriber and can be a step behind or ahead of the event being
 * handled. Not thread-safe: an actor owns it.
 */
public final class Membership<A> {

  private static final Logger log = LoggerFactory.getLogger(Membership.class);
  private static final String UP = "Up";

  private record Entry(String status, List<String> roles) {}

  private final A self;
  private final int requiredUp;
  private final Supplier<A> clusterLeader;
  private final Map<A, Entry> members;
  private A leader;
  private boolean formedLogged;

  /**
   * @param self this node's address
   * @param order the toolkit's address ordering, which the member list is shown in
   * @param requiredUp Up members that make a formed cluster, for the one-time member list
   * @param clusterLeader the leader in the cluster's own view, for when that event has not arrived
   *     yet
   */
  public Membership(A self, Comparator<A> order, int requiredUp, Supplier<A> clusterLeader) {
    this.self = self;
    this.requiredUp = requiredUp;
    this.clusterLeader = clusterLeader;
    this.members = new TreeMap<>(order);
  }

  /**
   * A member event other than removal: the member now has {@code status} (the toolkit's member
   * status in words, such as "Up"). Up, Leaving and Exiting are logged, as the toolkit's MemberUp,
   * MemberLeft and MemberExited events; Joining, WeaklyUp, Down and the shutdown preparation states
   * are only kept for the member list.
   */
  public void memberChanged(A address, String status, Collection<String> roles) {
    members.put(address, new Entry(status, List.copyOf(new TreeSet<>(roles))));
    switch (status) {
      case UP -> {
        log.info("Member Up: {} ({} Up)", address, upCount());
        logMembersOnceFormed();
      }
      case "Leaving" -> log.info("Member Left: {} ({} Up)", address, upCount());
      case "Exiting" -> log.info("Member Exited: {} ({} Up)", address, upCount());
      default -> {}
    }
  }

  public void memberRemoved(A address, String previousStatus) {
    members.remove(address);
    log.info("Member Removed: {}, was {} ({} Up)", address, previousStatus, upCount());
  }

  public void unreachable(A address, String status) {
    log.warn("Member Unreachable: {} ({})", address, status);
  }

  public void reachable(A address) {
    log.info("Member Reachable again: {}", address);
  }

  /** {@code newLeader} is null while the cluster has none. */
  public void leaderChanged(A newLeader) {
    leader = newLeader;
  }

  long upCount() {
    return members.values().stream().filter(entry -> UP.equals(entry.status())).count();
  }

  private void logMembersOnceFormed() {
    Entry own = members.get(self);
    if (formedLogged || own == null || !UP.equals(own.status()) || upCount() < requiredUp) {
      return;
    }
    formedLogged = true;
    // The leader is normally known by now; if its event is still on the way, the cluster's own view
    // has it.
    A shownLeader = leader != null ? leader : clusterLeader.get();
    List<List<String>> rows = new ArrayList<>();
    members.forEach(
        (address, entry) -> {
          List<String> marks = new ArrayList<>();
          if (address.equals(shownLeader)) {
            marks.add("leader");
          }
          if (address.equals(self)) {
            marks.add("this node");
          }
          rows.add(
              List.of(
                  address.toString(),
                  entry.status(),
                  String.join(",", entry.roles()),
                  String.join(", ", marks)));
        });
    log.info(
        "This node is Up in a cluster of {} Up members (required-contact-point-nr {}), leader {}\n{}",
        upCount(),
        requiredUp,
        shownLeader,
        TextTable.render("  ", List.of("ADDRESS", "STATUS", "ROLES", ""), rows));
  }
}
