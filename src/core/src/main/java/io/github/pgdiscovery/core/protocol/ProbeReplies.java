package io.github.pgdiscovery.core.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a node remembers about the probes it answers: the probes heard while it was not yet
 * answering lookups (answered once it is), the probers that need no roster because they heard the
 * probe of everybody this node waited out, and when each prober was last answered, so that a probe
 * repeated in a loop (forged or replayed) costs one answer per prober and second.
 */
final class ProbeReplies {

  /**
   * A node replies at most once per prober incarnation within this time: a forged or replayed probe
   * repeated in a loop then costs each member one reply, not one per copy.
   */
  static final long SUPPRESSION_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final int MAX_REMEMBERED_PROBERS = 4096;

  /**
   * Both maps of probers hold one entry per prober: as many as the contact points kept per service,
   * at least this.
   */
  private static final int MIN_PENDING_PROBES = 1024;

  /**
   * A probe heard while not answering lookups; {@code since} is how many payloads this node had
   * received when the prober's first probe on its connection came, which tells when it started
   * listening.
   */
  record Pending(Message.Probe probe, long heardAt, long since) {}

  private final Map<String, Long> repliedTo = new BoundedMap<>(MAX_REMEMBERED_PROBERS, true);

  /**
   * Probes for this node's service heard while it was not yet answering lookups, by prober: when it
   * becomes ready it answers those it is a responder for at once. In a cold start the others wait
   * for the first node's roster, and would otherwise hear it only at their next probe, later each
   * time.
   */
  private final Map<String, Pending> pending;

  /**
   * Probers whose first probe on their connection this node heard before the probe of everybody it
   * waited out: they hear that probe and its answers too, so their probes asked again on the same
   * connection (attempt above 0) get no roster. A first attempt (a new connection) takes a prober
   * off.
   */
  private final Map<String, Boolean> covered;

  ProbeReplies(int maxPeersPerService) {
    // In a cold start of N every node hears N - 1 probes before it is ready: a prober forgotten
    // here would be sent a roster it does not need.
    int probers = Math.max(MIN_PENDING_PROBES, maxPeersPerService);
    this.pending = new BoundedMap<>(probers, false);
    this.covered = new BoundedMap<>(probers, false);
  }

  /** A new connection: what this node waited out on the last one covers nobody now. */
  void connected() {
    covered.clear();
  }

  /** Holds a probe heard while not answering lookups; {@code received} is the count so far. */
  void hold(Message.Probe probe, long now, long received) {
    // A probe asked again keeps when the prober's first one was heard.
    Pending earlier = pending.get(probe.senderIncarnation());
    long since = earlier != null && probe.attempt() > 0 ? earlier.since() : received;
    pending.put(probe.senderIncarnation(), new Pending(probe, now, since));
  }

  /** The probes held, taken: the caller answers or covers each. */
  List<Pending> takeHeld() {
    List<Pending> held = new ArrayList<>(pending.values());
    pending.clear();
    return held;
  }

  boolean holdsAny() {
    return !pending.isEmpty();
  }

  /** This prober heard the probe of everybody this node waited out, and all its answers. */
  void cover(String prober) {
    covered.put(prober, Boolean.TRUE);
  }

  /**
   * Whether a probe for this node's view needs no roster: asked again on a connection whose first
   * probe came before the probe of everybody this node waited out. A first attempt, on a new
   * connection, uncovers its prober.
   */
  boolean coveredAlready(Message.Probe probe) {
    if (probe.attempt() == 0) {
      covered.remove(probe.senderIncarnation());
      return false;
    }
    return covered.containsKey(probe.senderIncarnation());
  }

  /**
   * Whether this prober was answered less than a second ago; if not, it counts as answered now. An
   * answer to its probe of everybody is kept apart from a roster to it: a roster moments ago must
   * not hold back that answer, which the other nodes waiting for a view take as theirs too.
   */
  boolean suppressed(Message.Probe probe, long now) {
    String prober = (probe.all() ? "all:" : "") + probe.senderIncarnation();
    Long last = repliedTo.get(prober);
    if (last != null && now - last < SUPPRESSION_NANOS) {
      return true;
    }
    repliedTo.put(prober, now);
    return false;
  }

  /**
   * {@code incarnation} announced: a node announces in the same commit as each probe of everybody
   * it sends, so the next one heard is a new ask (after a reconnect, say) and is answered, however
   * soon; a probe of everybody repeated on its own stays suppressed.
   */
  void announced(String incarnation) {
    repliedTo.remove("all:" + incarnation);
  }
}
