package io.github.pgdiscovery.simulation.invariants;

import io.github.pgdiscovery.simulation.SimulatedNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The nodes of a service form one cluster: no node founds a cluster while another cluster of its
 * service has a live member. A cluster whose members have all crashed or left is gone, and a new
 * one may take its place. Cluster Bootstrap promises this as long as discovery answers only on a
 * complete view; the known exception, every member off the database while newcomers start, is not a
 * cold start.
 */
public final class ExactlyOneCluster implements Invariant {

  private final Violations violations;

  public ExactlyOneCluster(Violations violations) {
    this.violations = violations;
  }

  @Override
  public String rule() {
    return "no two clusters of one service have live members at the same time";
  }

  /** {@code node} just joined its cluster, or founded it; {@code nodes}: every node. */
  public void joined(SimulatedNode node, List<SimulatedNode> nodes) {
    Map<String, List<String>> clusters = liveClusters(node.self().service(), nodes);
    boolean founded =
        clusters.getOrDefault(node.clusterId(), List.of()).equals(List.of(node.name()));
    if (founded && clusters.size() > 1) {
      violations.found(
          this,
          node.name()
              + " founded cluster "
              + node.clusterId()
              + " while "
              + describe(clusters, node.clusterId()));
    }
  }

  /** What is wrong now: a line per service whose live members are in more than one cluster. */
  public List<String> check(List<SimulatedNode> nodes) {
    List<String> found = new ArrayList<>();
    nodes.stream()
        .map(n -> n.self().service())
        .distinct()
        .sorted()
        .forEach(
            service -> {
              Map<String, List<String>> clusters = liveClusters(service, nodes);
              if (clusters.size() > 1) {
                found.add(service + ": " + clusters.size() + " clusters: " + clusters);
              }
            });
    return found;
  }

  /** The clusters of {@code service} with a live member, each with its live members' names. */
  private static Map<String, List<String>> liveClusters(String service, List<SimulatedNode> nodes) {
    Map<String, List<String>> clusters = new TreeMap<>();
    for (SimulatedNode n : nodes) {
      if (n.live()
          && n.hasJoined()
          && !n.hasBeenRemoved()
          && n.clusterId() != null
          && n.self().service().equals(service)) {
        clusters.computeIfAbsent(n.clusterId(), id -> new ArrayList<>()).add(n.name());
      }
    }
    return clusters;
  }

  private static String describe(Map<String, List<String>> clusters, String except) {
    List<String> others = new ArrayList<>();
    clusters.forEach(
        (id, members) -> {
          if (!id.equals(except)) {
            others.add("cluster " + id + " has live members " + members);
          }
        });
    return String.join(" and ", others);
  }
}
