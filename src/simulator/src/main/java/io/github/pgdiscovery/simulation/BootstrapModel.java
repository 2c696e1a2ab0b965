package io.github.pgdiscovery.simulation;

import io.github.pgdiscovery.core.protocol.Announcement;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Cluster Bootstrap's join decision, per node, as Akka Management's {@code BootstrapCoordinator}
 * carries out {@code LowestAddressJoinDecider}'s decision (Pekko Management's are the same), on the
 * simulation's virtual time, with the node's own {@code DiscoveryProtocol} as the discovery method.
 * It starts with the node and ends when the node joins a cluster or its process ends.
 *
 * <p>Discovery: the node looks up its own service; the lookup waits up to {@code resolve-timeout}
 * for the protocol to answer, as {@code DiscoveryEngine.lookup} does (retrying every 50 ms), and
 * then fails. A failed lookup teaches nothing and forgets the last set of contact points, so that
 * no decision is taken until a lookup succeeds again (and the stable margin starts over); the next
 * one comes after a backoff ({@code interval} doubled per failure, at most {@code
 * exponential-backoff-max}, times 1 to 1 + {@code exponential-backoff-random-factor}). A successful
 * one notes when the set of contact points last changed, forgets the observations of contact points
 * no longer in it, and starts probing the new ones; the next lookup follows after {@code interval}
 * (with the same noise).
 *
 * <p>Probing: each discovered contact point is asked every {@code probe-interval} (plus up to
 * {@code probe-interval-jitter} of it) whether it is a member of a cluster, and which: the
 * simulated node there answers as of when the request reaches it, 1 to 3 ms after it was sent, and
 * the answer arrives as long again later; a crashed, stopped or paused node does not answer, and
 * the last observation of it ages out. An answer naming a cluster is decided on at once.
 *
 * <p>Decision, every {@code probe-interval}, on the observations younger than {@code
 * probing-failure-timeout}, as {@code LowestAddressJoinDecider} takes it:
 *
 * <ol>
 *   <li>a contact point reported a cluster: join it (the lowest such contact point's, should there
 *       be two);
 *   <li>fewer than {@code required-contact-point-nr} contact points answered: keep probing;
 *   <li>the contact points changed less than {@code stable-margin} ago: keep probing;
 *   <li>with {@code contact-with-all-contact-points}, a contact point has not answered: keep
 *       probing;
 *   <li>this node's own contact point is the lowest that answered (by host, then port): form a new
 *       cluster (self-join); otherwise keep probing.
 * </ol>
 *
 * <p>So a decision rests on answers up to a probe interval old, as in Bootstrap: that is why only
 * the lowest contact point may form a cluster. Akka orders contact points by IP address first where
 * it has one; any order every node shares gives the same guarantee, and host then port is the one
 * the protocol's views are sorted by. Times are the node's wall clock, as Bootstrap's are.
 */
public final class BootstrapModel {

  /** The settings of Cluster Bootstrap the decision depends on; the defaults are Akka's. */
  public record Settings(
      Duration interval,
      Duration stableMargin,
      int requiredContactPoints,
      Duration resolveTimeout,
      Duration backoffMax,
      double backoffRandomFactor,
      Duration probingFailureTimeout,
      Duration probeInterval,
      double probeIntervalJitter,
      boolean contactWithAllContactPoints) {

    /** reference.conf of akka-management-cluster-bootstrap. */
    public static Settings defaults() {
      return new Settings(
          Duration.ofSeconds(1),
          Duration.ofSeconds(5),
          2,
          Duration.ofSeconds(3),
          Duration.ofSeconds(15),
          0.2,
          Duration.ofSeconds(3),
          Duration.ofSeconds(1),
          0.2,
          true);
    }

    /** {@code contact-point-discovery.required-contact-point-nr}. */
    public Settings requiredContactPoints(int value) {
      return new Settings(
          interval,
          stableMargin,
          value,
          resolveTimeout,
          backoffMax,
          backoffRandomFactor,
          probingFailureTimeout,
          probeInterval,
          probeIntervalJitter,
          contactWithAllContactPoints);
    }

    /** {@code contact-point-discovery.stable-margin}. */
    public Settings stableMargin(Duration value) {
      return new Settings(
          interval,
          value,
          requiredContactPoints,
          resolveTimeout,
          backoffMax,
          backoffRandomFactor,
          probingFailureTimeout,
          probeInterval,
          probeIntervalJitter,
          contactWithAllContactPoints);
    }
  }

  /** A contact point as Bootstrap orders them: by host, then port. */
  record ContactPoint(String host, int port) implements Comparable<ContactPoint> {

    private static final Comparator<ContactPoint> ORDER =
        Comparator.comparing(ContactPoint::host).thenComparingInt(ContactPoint::port);

    static ContactPoint of(Announcement a) {
      return new ContactPoint(a.host(), a.port());
    }

    @Override
    public int compareTo(ContactPoint other) {
      return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /** A probe's answer: when (the prober's wall clock), and the cluster, null for none. */
  private record Observation(long atMillis, String clusterId) {}

  private static final long LOOKUP_RETRY = 50 * Simulation.MILLISECOND;

  private final Simulation sim;
  private final Settings settings;

  /** Only for Bootstrap's backoff noise, so that other draws stay as they were without it. */
  private final SplittableRandom random;

  public BootstrapModel(Simulation sim, Settings settings, long seed) {
    this.sim = sim;
    this.settings = settings;
    this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
  }

  public Settings settings() {
    return settings;
  }

  /** Bootstrap starts with the node: the first lookup now, the first decision a second later. */
  void start(SimulatedNode node) {
    Coordinator coordinator = new Coordinator(node, random.split());
    coordinator.discover();
    sim.loop().after(settings.probeInterval().toNanos(), coordinator::decideTick);
  }

  /** One node's Bootstrap, until it joins or its process ends. */
  private final class Coordinator {
    private final SimulatedNode node;
    private final SplittableRandom random;

    /** The contact points of the last successful lookup, null after a failed one. */
    private Set<ContactPoint> contactPoints;

    private long contactPointsChangedAt;
    private final Map<ContactPoint, Observation> observations = new HashMap<>();
    private final Set<ContactPoint> probing = new HashSet<>();
    private int failedLookups;
    private boolean done;

    Coordinator(SimulatedNode node, SplittableRandom random) {
      this.node = node;
      this.random = random;
    }

    private boolean active() {
      return !done && node.live() && !node.hasJoined();
    }

    // ---------------------------------------------------------------------------------- discovery

    void discover() {
      attemptLookup(sim.loop().now() + settings.resolveTimeout().toNanos());
    }

    private void attemptLookup(long deadline) {
      if (!active()) {
        return;
      }
      Optional<List<Announcement>> view = node.lookup();
      if (view.isPresent()) {
        resolved(view.get());
      } else if (sim.loop().now() >= deadline) {
        failed();
      } else {
        sim.loop()
            .after(
                Math.min(LOOKUP_RETRY, deadline - sim.loop().now()), () -> attemptLookup(deadline));
      }
    }

    private void failed() {
      contactPoints = null; // no decision until a lookup succeeds again
      failedLookups++;
      sim.loop().after(backoff(), this::discover);
    }

    private void resolved(List<Announcement> view) {
      Set<ContactPoint> found = view.stream().map(ContactPoint::of).collect(Collectors.toSet());
      if (contactPoints == null || !contactPoints.equals(found)) {
        contactPoints = found;
        contactPointsChangedAt = node.wall();
      }
      observations.keySet().retainAll(found);
      for (ContactPoint contactPoint : found) {
        if (probing.add(contactPoint)) {
          probe(contactPoint);
        }
      }
      failedLookups = 0;
      sim.loop().after(backoff(), this::discover);
    }

    // ---------------------------------------------------------------------------------- probing

    /**
     * Asks the node at {@code contactPoint} for its cluster, and again every probe interval while
     * the contact point is discovered; its answer, as of when it gets the request, arrives a few
     * milliseconds later. No answer changes nothing: the last observation ages out.
     */
    private void probe(ContactPoint contactPoint) {
      if (!active() || contactPoints == null || !contactPoints.contains(contactPoint)) {
        probing.remove(contactPoint);
        return;
      }
      long requestLatency = Simulation.MILLISECOND + random.nextLong(2 * Simulation.MILLISECOND);
      sim.loop()
          .after(
              requestLatency,
              () ->
                  answering(contactPoint)
                      .ifPresent(
                          probed -> {
                            String cluster =
                                probed.hasJoined() && !probed.hasBeenRemoved()
                                    ? probed.clusterId()
                                    : null;
                            sim.loop().after(requestLatency, () -> observed(contactPoint, cluster));
                          }));
      long interval =
          (long)
              (settings.probeInterval().toNanos()
                  * (1 + random.nextDouble() * settings.probeIntervalJitter()));
      sim.loop().after(interval, () -> probe(contactPoint));
    }

    /** The node that answers a probe at {@code contactPoint} now, if any. */
    private Optional<SimulatedNode> answering(ContactPoint contactPoint) {
      return sim.nodes().stream()
          .filter(
              other ->
                  other.answersProbes()
                      && other.self().host().equals(contactPoint.host())
                      && other.self().port() == contactPoint.port())
          .findFirst();
    }

    /** A probe's answer arrived: the cluster of the node probed, null for none. */
    private void observed(ContactPoint contactPoint, String cluster) {
      if (!active() || contactPoints == null || !contactPoints.contains(contactPoint)) {
        return;
      }
      observations.put(contactPoint, new Observation(node.wall(), cluster));
      if (cluster != null) {
        decide(); // seed nodes: join them now rather than at the next decision
      }
    }

    // ---------------------------------------------------------------------------------- decision

    void decideTick() {
      if (!active()) {
        return;
      }
      decide();
      sim.loop().after(settings.probeInterval().toNanos(), this::decideTick);
    }

    private void decide() {
      if (!active() || contactPoints == null) {
        return;
      }
      long now = node.wall();
      Map<ContactPoint, Observation> fresh = new HashMap<>();
      observations.forEach(
          (contactPoint, observation) -> {
            if (now - observation.atMillis() <= settings.probingFailureTimeout().toMillis()) {
              fresh.put(contactPoint, observation);
            }
          });
      Optional<ContactPoint> member =
          fresh.entrySet().stream()
              .filter(e -> e.getValue().clusterId() != null)
              .map(Map.Entry::getKey)
              .min(Comparator.naturalOrder());
      if (member.isPresent()) {
        join(fresh.get(member.get()).clusterId());
        return;
      }
      if (fresh.size() < settings.requiredContactPoints()
          || now - contactPointsChangedAt < settings.stableMargin().toMillis()
          || (settings.contactWithAllContactPoints()
              && !fresh.keySet().containsAll(contactPoints))) {
        return;
      }
      ContactPoint lowest = new TreeSet<>(fresh.keySet()).first();
      if (lowest.equals(ContactPoint.of(node.self()))) {
        join(node.self().incarnation());
      }
    }

    private void join(String clusterId) {
      done = true;
      node.join(clusterId);
    }

    /**
     * Akka's backoff: {@code interval} doubled per failed lookup, capped, times 1 to 1 + factor.
     */
    private long backoff() {
      double base =
          Math.min(
              settings.backoffMax().toNanos(),
              settings.interval().toNanos() * Math.pow(2, Math.min(failedLookups, 30)));
      return (long) (base * (1 + random.nextDouble() * settings.backoffRandomFactor()));
    }
  }
}
