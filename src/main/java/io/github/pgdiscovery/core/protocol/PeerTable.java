package io.github.pgdiscovery.core.protocol;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The contact points a node has heard, keyed by service and endpoint, each with the time it was last heard on the
 * receiver's monotonic clock. Receiver clock, not a sender timestamp: nodes' clocks may disagree.
 *
 * <p>All times are {@link System#nanoTime()} values passed in by the caller, so the table is a plain function of
 * what it was told and can be tested without waiting. Thread-safe.
 */
public final class PeerTable {

  /** Incarnations retired by a goodbye or by cluster removal; bounded, oldest forgotten first. */
  private static final int MAX_RETIRED = 4096;

  private static final Comparator<Announcement> ORDER =
      Comparator.comparing(Announcement::host).thenComparingInt(Announcement::port);

  private record Endpoint(String service, String host, int port) {
    static Endpoint of(Announcement node) {
      return new Endpoint(node.service(), node.host(), node.port());
    }
  }

  private record Entry(Announcement node, long lastHeardNanos, long expireAfterNanos) {}

  /** What {@link #admit} did with an announcement. */
  public enum Admission {
    /** A contact point not in the table before, or a new incarnation on one. */
    NEW,
    /** The same incarnation heard again; its age starts over. */
    REFRESHED,
    /** From an incarnation that said goodbye or was removed from the cluster; ignored. */
    RETIRED,
    /** A new contact point for a service that has the maximum number already; ignored. */
    FULL
  }

  private final long expireAfterNanos;
  private final int maxPerService;
  private final Map<Endpoint, Entry> entries = new HashMap<>();
  private final Map<String, Boolean> retired = new BoundedMap<>(MAX_RETIRED, false);

  public PeerTable(long expireAfterNanos) {
    this(expireAfterNanos, Integer.MAX_VALUE);
  }

  /** A table that keeps at most {@code maxPerService} live contact points per service, so a flood cannot grow it. */
  public PeerTable(long expireAfterNanos, int maxPerService) {
    if (expireAfterNanos <= 0) {
      throw new IllegalArgumentException("expireAfterNanos must be positive");
    }
    if (maxPerService <= 0) {
      throw new IllegalArgumentException("maxPerService must be positive");
    }
    this.expireAfterNanos = expireAfterNanos;
    this.maxPerService = maxPerService;
  }

  /**
   * Records an announcement heard at {@code nowNanos}. A newer incarnation on the same endpoint replaces the older
   * one. An incarnation that said goodbye or was removed from the cluster is not taken back.
   *
   * @return true if the endpoint was not in the table before (or held another incarnation)
   */
  public synchronized boolean heard(Announcement node, long nowNanos) {
    return admit(node, nowNanos) == Admission.NEW;
  }

  /**
   * Records an announcement heard at {@code nowNanos}, as {@link #heard}, and says what became of it. A new
   * contact point is refused when its service already has the maximum number of live ones; known ones are always
   * refreshed.
   */
  public synchronized Admission admit(Announcement node, long nowNanos) {
    return admit(node, nowNanos, expireAfterNanos);
  }

  /**
   * As {@link #admit(Announcement, long)}, with an expiry for this entry alone: until it is heard again, it stays
   * for {@code entryExpireAfterNanos} instead of the table's expiry. For a peer that announces less often.
   */
  public synchronized Admission admit(Announcement node, long nowNanos, long entryExpireAfterNanos) {
    if (entryExpireAfterNanos <= 0) {
      throw new IllegalArgumentException("entryExpireAfterNanos must be positive");
    }
    if (retired.containsKey(node.incarnation())) {
      return Admission.RETIRED;
    }
    Endpoint endpoint = Endpoint.of(node);
    Entry previous = entries.get(endpoint);
    boolean known = previous != null && !isExpired(previous, nowNanos);
    if (!known && liveCount(node.service(), nowNanos) >= maxPerService) {
      return Admission.FULL;
    }
    entries.put(endpoint, new Entry(node, nowNanos, entryExpireAfterNanos));
    return known && previous.node().equals(node) ? Admission.REFRESHED : Admission.NEW;
  }

  /**
   * Drops the endpoint if it still holds the incarnation that said goodbye; a goodbye from an old incarnation leaves
   * a newer one on the same endpoint alone.
   *
   * @return true if an entry was removed
   */
  public synchronized boolean goodbye(Announcement node) {
    retire(node.incarnation());
    Endpoint endpoint = Endpoint.of(node);
    Entry entry = entries.get(endpoint);
    if (entry != null && entry.node().incarnation().equals(node.incarnation())) {
      entries.remove(endpoint);
      return true;
    }
    return false;
  }

  /**
   * Drops every entry with this Akka address, because the cluster removed that node; its incarnation will not be
   * taken back even if a late heartbeat from it arrives.
   *
   * @return the number of entries removed
   */
  public synchronized int forgetAkkaAddress(String akkaAddress) {
    int removed = 0;
    for (var it = entries.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (entry.node().akkaAddress().equals(akkaAddress)) {
        retire(entry.node().incarnation());
        it.remove();
        removed++;
      }
    }
    return removed;
  }

  /**
   * Drops entries not heard for longer than their expiry.
   *
   * @return the entries dropped
   */
  public synchronized List<Announcement> expire(long nowNanos) {
    List<Announcement> expired = new ArrayList<>();
    for (var it = entries.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (isExpired(entry, nowNanos)) {
        expired.add(entry.node());
        it.remove();
      }
    }
    return expired;
  }

  /**
   * The live contact points of {@code service} in a deterministic order (host, then port), with {@code self}
   * included when it belongs to that service. Entries past their expiry are left out even before
   * {@link #expire(long)} removes them.
   */
  public synchronized List<Announcement> contactPoints(String service, Announcement self, long nowNanos) {
    Map<Endpoint, Announcement> live = new HashMap<>();
    for (Entry entry : entries.values()) {
      if (entry.node().service().equals(service) && !isExpired(entry, nowNanos)) {
        live.put(Endpoint.of(entry.node()), entry.node());
      }
    }
    if (self != null && self.service().equals(service)) {
      live.put(Endpoint.of(self), self);
    }
    List<Announcement> result = new ArrayList<>(live.values());
    result.sort(ORDER);
    return result;
  }

  /** Every live entry with its age, for the operator view. */
  public synchronized List<HeardPeer> snapshot(long nowNanos) {
    List<HeardPeer> result = new ArrayList<>();
    for (Entry entry : entries.values()) {
      if (!isExpired(entry, nowNanos)) {
        result.add(new HeardPeer(entry.node(), (nowNanos - entry.lastHeardNanos()) / 1_000_000));
      }
    }
    result.sort(Comparator.comparing(HeardPeer::node, Comparator.comparing(Announcement::service).thenComparing(ORDER)));
    return result;
  }

  public synchronized int size() {
    return entries.size();
  }

  /** A peer in the table and how long ago it was last heard. */
  public record HeardPeer(Announcement node, long ageMillis) {
    public HeardPeer {
      Objects.requireNonNull(node, "node");
    }
  }

  private int liveCount(String service, long nowNanos) {
    int count = 0;
    for (Entry entry : entries.values()) {
      if (entry.node().service().equals(service) && !isExpired(entry, nowNanos)) {
        count++;
      }
    }
    return count;
  }

  private boolean isExpired(Entry entry, long nowNanos) {
    return nowNanos - entry.lastHeardNanos() > entry.expireAfterNanos();
  }

  private void retire(String incarnation) {
    retired.put(incarnation, Boolean.TRUE);
  }
}
