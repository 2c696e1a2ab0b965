package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.simulation.SimulatedNode;
import io.github.pgdiscovery.simulation.Simulation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * After quiescence: every live node not excluded answers the lookup of its service with exactly the
 * live, announcing, not excluded nodes of that service, itself included, in the same order
 * everywhere; except that a member that crashed and that its cluster has not removed (no downing
 * provider) may be listed or not: members that knew it keep it, as the cluster does, and a node
 * that came later learns of it only from a responder that holds it.
 */
public final class OneViewAtQuiescence implements Invariant {

  @Override
  public String rule() {
    return "at quiescence every live node lists exactly the live announcing nodes of its service";
  }

  /** What is wrong now, one line per node that disagrees; empty when the views agree. */
  public List<String> check(List<SimulatedNode> nodes) {
    List<String> found = new ArrayList<>();
    Map<String, List<Announcement>> expected = new TreeMap<>();
    Set<String> optional = new HashSet<>();
    for (SimulatedNode node : nodes) {
      boolean member =
          node.hasJoined()
              && !node.hasBeenRemoved()
              && node.life() == SimulatedNode.Life.CRASHED
              && nodes.stream()
                  .noneMatch(other -> other.live() && other.self().sameContactPoint(node.self()));
      if (member) {
        optional.add(node.self().incarnation());
      } else if (node.announcing() && node.excluded() == null) {
        expected.computeIfAbsent(node.self().service(), s -> new ArrayList<>()).add(node.self());
      }
    }
    expected
        .values()
        .forEach(
            list ->
                list.sort(
                    Comparator.comparing(Announcement::host).thenComparingInt(Announcement::port)));
    for (SimulatedNode node : nodes) {
      if (!node.live() || node.excluded() != null) {
        continue;
      }
      List<Announcement> want = expected.getOrDefault(node.self().service(), List.of());
      Optional<List<Announcement>> view = node.lookup();
      if (view.isEmpty()) {
        found.add(
            node.name()
                + " does not answer lookups: "
                + node.protocol().notReadyReason(node.now()));
      } else if (!view.get().stream()
          .filter(a -> !optional.contains(a.incarnation()))
          .toList()
          .equals(want)) {
        List<Announcement> seen =
            view.get().stream().filter(a -> !optional.contains(a.incarnation())).toList();
        found.add(
            node.name()
                + " sees "
                + endpoints(view.get())
                + ", the live set is "
                + endpoints(want)
                + "; it lacks "
                + endpoints(want.stream().filter(a -> !seen.contains(a)).toList())
                + " and has besides "
                + endpoints(seen.stream().filter(a -> !want.contains(a)).toList())
                + " (connected since "
                + node.connectedSince() / Simulation.MILLISECOND
                + " ms, joined "
                + node.hasJoined()
                + ")");
      }
    }
    return found;
  }

  private static String endpoints(List<Announcement> list) {
    List<String> names = list.stream().map(Announcement::endpoint).toList();
    return names.size() <= 8
        ? names.toString()
        : names.subList(0, 8) + "... (" + names.size() + ")";
  }
}
