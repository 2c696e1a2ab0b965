package io.github.pgdiscovery.core.protocol;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * The contact points a node has heard, keyed by service and endpoint, each with the time it was
 * last heard on the receiver's monotonic clock. Receiver clock, not a sender timestamp: nodes'
 * clocks may disagree.
 *
 * <p>All times are nanosecond values passed in by the caller, so the table is a plain function of
 * what it was told. Its size is bounded whatever strangers send: it keeps only the services it was
 * told to keep ({@link #keep}), at most {@code maxPerService} contact points each. Admission is
 * O(1) but for one heap insertion for the expiry deadline; expiry costs O(log n) per entry that
 * actually expires. Not thread-safe: one owner.
 *
 * <p>Two live incarnations announcing one endpoint are a configuration error (typically two hosts
 * announcing the same 127.0.1.1). The first different incarnation on an endpoint is taken for a
 * restart and replaces the one before; if the replaced one is heard again, both are alive: the
 * entry then holds both, as a clash, so that neither flips the entry on every heartbeat nor removes
 * the other with its goodbye.
 */
public final class PeerTable {

  /** Incarnations retired by a goodbye or by cluster removal; bounded, oldest forgotten first. */
  private static final int MAX_RETIRED = 4096;

  static final Comparator<Announcement> ORDER =
      Comparator.comparing(Announcement::host).thenComparingInt(Announcement::port);

  private record Endpoint(String service, String host, int port) {
    static Endpoint of(Announcement node) {
      return new Endpoint(node.service(), node.host(), node.port());
    }
  }

  /** One contact point: who holds it, and, during a clash, the other live incarnation on it. */
  private static final class Entry {
    Announcement node;
    long lastHeard;
    long expireAfter;

    /** The incarnation this one replaced, taken for a restart until it is heard again. */
    String superseded;

    Announcement clash;
    long clashLastHeard;
    long clashExpireAfter;

    /** The holder said its cluster watches it: it sends no more heartbeats. */
    boolean watched;

    /**
     * Whether a deadline of this entry is queued, and the one that counts: a deadline that moves
     * later is not queued again, it is queued anew when the old one is due.
     */
    boolean queued;

    long queuedAt;

    Entry(Announcement node, long now, long expireAfter) {
      this.node = node;
      this.lastHeard = now;
      this.expireAfter = expireAfter;
    }

    boolean expired(long now) {
      return now - lastHeard > expireAfter;
    }

    boolean clashExpired(long now) {
      return clash != null && now - clashLastHeard > clashExpireAfter;
    }

    long deadline() {
      long own = lastHeard + expireAfter;
      // By difference, not Math.min: the readings may lie on either side of the clock's wrap.
      return clash == null ? own : Deadlines.earlier(own, clashLastHeard + clashExpireAfter);
    }
  }

  private record Deadline(long atNanos, Endpoint endpoint) {}

  /** What {@link #admit} did with an announcement. */
  public enum Admission {
    /** A contact point not in the table before, or a new incarnation on one (a restart). */
    NEW,
    /** The same incarnation heard again; its age starts over. */
    REFRESHED,
    /** A second live incarnation on an endpoint, just detected: a clash. */
    CLASH,
    /** From an incarnation that said goodbye or was removed from the cluster; ignored. */
    RETIRED,
    /** A new contact point for a service that has the maximum number already; ignored. */
    FULL,
    /** For a service the table does not keep; ignored. */
    OTHER_SERVICE,
    /**
     * A vouched-for incarnation other than the one this node heard itself on the endpoint; ignored.
     */
    STALE
  }

  /** What an entry that left the table was, and why it left. */
  public record Departure(Announcement node, String why) {}

  /** Two live incarnations announcing one contact point, for operators. */
  public record Clash(Announcement holder, Announcement other) {}

  private final int maxPerService;
  private final Map<Endpoint, Entry> entries = new HashMap<>();

  /**
   * The endpoints whose holder (not a clashing incarnation) has this cluster address: {@link
   * #member} is called for every member of the cluster, on every node, and looks one up.
   */
  private final Map<String, Set<Endpoint>> byAddress = new HashMap<>();

  private final Map<String, Integer> countByService = new HashMap<>();
  private final Set<String> services = new LinkedHashSet<>();
  private final int maxServices;
  private final Map<String, Boolean> retired = new BoundedMap<>(MAX_RETIRED, false);
  // Compared by difference, not by value: monotonic nanosecond readings may wrap around.
  private final PriorityQueue<Deadline> deadlines =
      new PriorityQueue<>((a, b) -> Long.signum(a.atNanos() - b.atNanos()));

  /**
   * @param maxPerService at most this many contact points per service
   * @param maxServices at most this many services kept
   */
  public PeerTable(int maxPerService, int maxServices) {
    if (maxPerService <= 0 || maxServices <= 0) {
      throw new IllegalArgumentException("maxPerService and maxServices must be positive");
    }
    this.maxPerService = maxPerService;
    this.maxServices = maxServices;
  }

  /**
   * Keeps contact points of {@code service} from now on.
   *
   * @return false if the table keeps {@code maxServices} others already
   */
  public boolean keep(String service) {
    if (services.contains(service)) {
      return true;
    }
    if (services.size() >= maxServices) {
      return false;
    }
    services.add(service);
    return true;
  }

  /** The services kept, in the order they were first kept. */
  public List<String> keptServices() {
    return List.copyOf(services);
  }

  /** Whether {@code incarnation} said goodbye or was removed from the cluster. */
  public boolean retired(String incarnation) {
    return retired.containsKey(incarnation);
  }

  public boolean keeps(String service) {
    return services.contains(service);
  }

  /**
   * Records an announcement heard at {@code now}, staying {@code expireAfterNanos} unless heard
   * again, and says what became of it. A new contact point is refused when its service already has
   * the maximum number; known ones are always refreshed. Call {@link #expire} first, so that
   * expired entries do not count.
   */
  public Admission admit(Announcement node, long now, long expireAfterNanos) {
    if (expireAfterNanos <= 0) {
      throw new IllegalArgumentException("expireAfterNanos must be positive");
    }
    if (!services.contains(node.service())) {
      return Admission.OTHER_SERVICE;
    }
    if (retired.containsKey(node.incarnation())) {
      return Admission.RETIRED;
    }
    Endpoint endpoint = Endpoint.of(node);
    Entry entry = entries.get(endpoint);
    if (entry != null && entry.expired(now) && entry.clash == null) {
      remove(endpoint);
      entry = null;
    }
    if (entry == null) {
      if (countByService.getOrDefault(node.service(), 0) >= maxPerService) {
        return Admission.FULL;
      }
      Entry added = new Entry(node, now, expireAfterNanos);
      entries.put(endpoint, added);
      index(endpoint, node);
      countByService.merge(node.service(), 1, Integer::sum);
      schedule(endpoint, added);
      return Admission.NEW;
    }
    Admission admission;
    if (entry.node.incarnation().equals(node.incarnation())) {
      hold(endpoint, entry, node);
      entry.lastHeard = now;
      entry.expireAfter = expireAfterNanos;
      admission = Admission.REFRESHED;
    } else if (entry.clash != null && entry.clash.incarnation().equals(node.incarnation())) {
      entry.clash = node;
      entry.clashLastHeard = now;
      entry.clashExpireAfter = expireAfterNanos;
      admission = Admission.REFRESHED;
    } else if (node.incarnation().equals(entry.superseded) && !entry.expired(now)) {
      // The incarnation we took for restarted is still announcing: two live nodes claim this
      // endpoint.
      entry.clash = node;
      entry.clashLastHeard = now;
      entry.clashExpireAfter = expireAfterNanos;
      admission = Admission.CLASH;
    } else {
      // A restart on the same endpoint, in all likelihood: the newer incarnation takes over.
      entry.superseded = entry.node.incarnation();
      hold(endpoint, entry, node);
      entry.lastHeard = now;
      entry.expireAfter = expireAfterNanos;
      entry.clash = null;
      entry.watched = false;
      admission = Admission.NEW;
    }
    schedule(endpoint, entry);
    return admission;
  }

  /**
   * Records {@code node} as another node vouched for it (a roster entry), staying {@code
   * remainingNanos} unless heard again. Second-hand news is never newer than what this node heard
   * itself since {@code heardDirectlySince} (the start of its current connection): such an entry
   * keeps its incarnation and is only ever prolonged, never shortened. An entry older than that is
   * treated as {@link #admit} would.
   */
  public Admission vouch(
      Announcement node, long now, long remainingNanos, long heardDirectlySince) {
    Entry entry = entries.get(Endpoint.of(node));
    if (entry == null || entry.expired(now) || entry.lastHeard - heardDirectlySince < 0) {
      return admit(node, now, remainingNanos);
    }
    if (!services.contains(node.service()) || retired.containsKey(node.incarnation())) {
      return retired.containsKey(node.incarnation()) ? Admission.RETIRED : Admission.OTHER_SERVICE;
    }
    if (!entry.node.incarnation().equals(node.incarnation())) {
      return Admission.STALE;
    }
    if (now + remainingNanos - (entry.lastHeard + entry.expireAfter) > 0) {
      entry.lastHeard = now;
      entry.expireAfter = remainingNanos;
      schedule(Endpoint.of(node), entry);
    }
    return Admission.REFRESHED;
  }

  /**
   * Drops the incarnation that said goodbye, and retires it; a goodbye from an old incarnation
   * leaves a newer one on the same endpoint alone, and one side of a clash leaves the other.
   *
   * @return true if the endpoint is no longer in the table because of it
   */
  public boolean goodbye(Announcement node) {
    retire(node.incarnation());
    Endpoint endpoint = Endpoint.of(node);
    Entry entry = entries.get(endpoint);
    if (entry == null) {
      return false;
    }
    return dropIncarnation(endpoint, entry, node.incarnation());
  }

  /**
   * Drops and retires the incarnation the cluster removed: the entries whose address and uid are
   * those of the removed member. A new incarnation on the same address has another uid and stays (a
   * node restarted on the same host and ports, whose predecessor's removal the cluster publishes
   * after it announced). An announcement without a uid (0) matches on the address alone.
   *
   * @return the entries that left the table
   */
  public List<Announcement> memberRemoved(String address, long uid) {
    List<Announcement> removed = new ArrayList<>();
    for (var entry : new ArrayList<>(entries.entrySet())) {
      Entry e = entry.getValue();
      if (e.clash != null && matches(e.clash, address, uid)) {
        retire(e.clash.incarnation());
        e.clash = null;
      }
      if (matches(e.node, address, uid)) {
        Announcement node = e.node;
        retire(node.incarnation());
        if (dropIncarnation(entry.getKey(), e, node.incarnation())) {
          removed.add(node);
        }
      }
    }
    return removed;
  }

  private static boolean matches(Announcement node, String address, long uid) {
    return node.address().equals(address) && (node.uid() == 0 || node.uid() == uid);
  }

  /** Removes {@code incarnation} from the entry; true if the endpoint left the table. */
  private boolean dropIncarnation(Endpoint endpoint, Entry entry, String incarnation) {
    if (entry.node.incarnation().equals(incarnation)) {
      if (entry.clash != null) {
        promoteClash(endpoint, entry);
        return false;
      }
      remove(endpoint);
      return true;
    }
    if (entry.clash != null && entry.clash.incarnation().equals(incarnation)) {
      entry.clash = null;
    }
    return false;
  }

  /**
   * Drops entries not heard for longer than their expiry, and ends clashes whose other side went
   * quiet.
   *
   * @return the entries dropped
   */
  public List<Departure> expire(long now) {
    List<Departure> expired = List.of();
    while (!deadlines.isEmpty() && deadlines.peek().atNanos() - now <= 0) {
      Deadline due = deadlines.poll();
      Endpoint endpoint = due.endpoint();
      Entry entry = entries.get(endpoint);
      if (entry == null || !entry.queued || entry.queuedAt != due.atNanos()) {
        continue; // superseded by an earlier deadline of the entry, or the entry is gone
      }
      entry.queued = false;
      if (entry.clashExpired(now)) {
        entry.clash = null;
      }
      if (entry.expired(now)) {
        if (entry.clash != null) {
          promoteClash(endpoint, entry);
          schedule(endpoint, entry);
          continue;
        }
        remove(endpoint);
        if (expired.isEmpty()) {
          expired = new ArrayList<>();
        }
        expired.add(new Departure(entry.node, "not heard within its expiry"));
      } else {
        // Heard or prolonged since this deadline was queued: its own deadline is later.
        schedule(endpoint, entry);
      }
    }
    return expired;
  }

  /** When {@link #expire} next has something to do, or {@link Long#MAX_VALUE}. */
  public long nextExpiryNanos() {
    return deadlines.isEmpty() ? Long.MAX_VALUE : deadlines.peek().atNanos();
  }

  /**
   * The live contact points of {@code service} in a deterministic order (host, then port), with
   * {@code self} included when it belongs to that service. Entries past their expiry are left out
   * even before {@link #expire} removes them.
   */
  public List<Announcement> contactPoints(String service, Announcement self, long now) {
    List<Announcement> result = new ArrayList<>();
    for (Entry entry : entries.values()) {
      if (entry.node.service().equals(service)
          && live(entry, now)
          && (self == null || !entry.node.sameContactPoint(self))) {
        result.add(entry.node);
      }
    }
    if (self != null && self.service().equals(service)) {
      result.add(self);
    }
    result.sort(ORDER);
    return result;
  }

  /**
   * How many live contact points of {@code self}'s service that their cluster watches, {@code
   * except} (an incarnation) left out, come before {@code self} by {@link #ORDER}; counting stops
   * at {@code enough}. One pass that usually ends early, nothing built: every node ranks itself for
   * every probe it hears, and most learn after a few entries that they are not among the first.
   */
  public int rankAmongWatched(Announcement self, String except, long now, int enough) {
    int rank = 0;
    for (Entry entry : entries.values()) {
      if (watchedOtherThan(entry, self.service(), except, now)
          && ORDER.compare(entry.node, self) < 0
          && ++rank >= enough) {
        break;
      }
    }
    return rank;
  }

  /**
   * How many live contact points of {@code self}'s service, {@code except} left out, come before
   * {@code self}, as {@link #rankAmongWatched} counts them but among all; or -1 as soon as one of
   * them is watched by its cluster (members are known, and a node that is not one answers nobody),
   * unless counting reached {@code enough} first.
   */
  public int rankUnlessWatched(Announcement self, String except, long now, int enough) {
    int rank = 0;
    for (Entry entry : entries.values()) {
      if (!entry.node.service().equals(self.service())
          || !live(entry, now)
          || entry.node.incarnation().equals(except)) {
        continue;
      }
      if (entry.watched && !entry.expired(now)) {
        return -1;
      }
      if (ORDER.compare(entry.node, self) < 0 && ++rank >= enough) {
        break;
      }
    }
    return rank;
  }

  private static boolean watchedOtherThan(Entry entry, String service, String except, long now) {
    return entry.watched
        && !entry.expired(now)
        && entry.node.service().equals(service)
        && !entry.node.incarnation().equals(except);
  }

  private static boolean live(Entry entry, long now) {
    return !entry.expired(now) || (entry.clash != null && !entry.clashExpired(now));
  }

  /**
   * Marks whether the incarnation holding {@code node}'s endpoint is watched by its cluster (see
   * {@link Message.Announce#watched()}); nothing if another incarnation holds it.
   */
  public void watched(Announcement node, boolean watched) {
    Entry entry = entries.get(Endpoint.of(node));
    if (entry != null && entry.node.incarnation().equals(node.incarnation())) {
      entry.watched = watched;
    }
  }

  /** Whether {@code service} has a contact point whose holder is watched by its cluster. */
  public boolean holdsWatched(String service, long now) {
    for (Entry entry : entries.values()) {
      if (entry.watched && entry.node.service().equals(service) && !entry.expired(now)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The cluster says the member with this address and uid is Up: its entries are watched, and stay
   * {@code expireAfterNanos} from when they were last heard. An announcement without a uid (0)
   * matches on the address alone.
   *
   * @return whether the table holds that member
   */
  public boolean member(String address, long uid, long expireAfterNanos) {
    Set<Endpoint> at = byAddress.get(address);
    if (at == null) {
      return false;
    }
    if (at.size() == 1) {
      Endpoint endpoint = at.iterator().next();
      Entry entry = entries.get(endpoint);
      if (!matches(entry.node, address, uid)) {
        return false;
      }
      entry.watched = true;
      entry.expireAfter = expireAfterNanos;
      schedule(endpoint, entry);
      return true;
    }
    // Several endpoints with this address (rare): in the table's order, as always.
    boolean held = false;
    for (var e : entries.entrySet()) {
      Entry entry = e.getValue();
      if (matches(entry.node, address, uid)) {
        held = true;
        entry.watched = true;
        entry.expireAfter = expireAfterNanos;
        schedule(e.getKey(), entry);
      }
    }
    return held;
  }

  /** The key of a cluster member, as its address and uid identify it: "address#uid". */
  public static String memberKey(String address, long uid) {
    return address + "#" + uid;
  }

  /** {@link #memberKey} of every entry's holder (uid 0 for an announcement without one). */
  public Set<String> memberKeys() {
    Set<String> keys = new HashSet<>();
    for (Entry entry : entries.values()) {
      keys.add(memberKey(entry.node.address(), entry.node.uid()));
    }
    return keys;
  }

  /**
   * Every watched contact point of {@code service} stays at least {@code expireAfter} of it from
   * now.
   */
  public void prolongWatched(String service, long now, ToLongFunction<Announcement> expireAfter) {
    for (var e : entries.entrySet()) {
      Entry entry = e.getValue();
      if (!entry.watched || !entry.node.service().equals(service) || entry.expired(now)) {
        continue;
      }
      long expireAfterNanos = expireAfter.applyAsLong(entry.node);
      if (now + expireAfterNanos - (entry.lastHeard + entry.expireAfter) > 0) {
        entry.lastHeard = now;
        entry.expireAfter = expireAfterNanos;
        schedule(e.getKey(), entry);
      }
    }
  }

  /**
   * A live contact point, how much longer the table keeps it unheard, and whether its cluster
   * watches it.
   */
  public record Live(Announcement node, long remainingNanos, boolean watched) {}

  /**
   * The live contact points of {@code service} (the holder of each endpoint), with their remaining
   * expiry.
   */
  public List<Live> live(String service, long now) {
    List<Live> result = new ArrayList<>();
    for (Entry entry : entries.values()) {
      if (entry.node.service().equals(service) && live(entry, now)) {
        long remaining =
            entry.expired(now)
                ? entry.clashLastHeard + entry.clashExpireAfter - now
                : entry.lastHeard + entry.expireAfter - now;
        result.add(
            new Live(entry.node, Math.max(1, remaining), entry.watched && !entry.expired(now)));
      }
    }
    result.sort(Comparator.comparing(Live::node, ORDER));
    return result;
  }

  /** The incarnation holding {@code node}'s endpoint now, if any. */
  public Announcement holder(Announcement node) {
    Entry entry = entries.get(Endpoint.of(node));
    return entry == null ? null : entry.node;
  }

  /** Every live entry with its age, for the operator view. */
  public List<HeardPeer> snapshot(long now) {
    List<HeardPeer> result = new ArrayList<>();
    for (Entry entry : entries.values()) {
      if (!entry.expired(now)) {
        result.add(new HeardPeer(entry.node, (now - entry.lastHeard) / 1_000_000));
      }
    }
    result.sort(
        Comparator.comparing(
            HeardPeer::node, Comparator.comparing(Announcement::service).thenComparing(ORDER)));
    return result;
  }

  /** The clashes going on now. */
  public List<Clash> clashes(long now) {
    List<Clash> result = new ArrayList<>();
    for (Entry entry : entries.values()) {
      if (entry.clash != null && !entry.clashExpired(now) && !entry.expired(now)) {
        result.add(new Clash(entry.node, entry.clash));
      }
    }
    return result;
  }

  /** Entries held, expired ones not yet dropped included. */
  public int size() {
    return entries.size();
  }

  /** A peer in the table and how long ago it was last heard. */
  public record HeardPeer(Announcement node, long ageMillis) {
    public HeardPeer {
      Objects.requireNonNull(node, "node");
    }
  }

  /**
   * Queues {@code entry}'s deadline unless one no later is queued already: then that one, when due,
   * queues the entry's deadline as it is by then. So the queue holds about one deadline per entry,
   * however often entries are heard or prolonged (an empty roster prolongs every watched entry).
   */
  private void schedule(Endpoint endpoint, Entry entry) {
    long at = entry.deadline() + 1;
    if (entry.queued && entry.queuedAt - at <= 0) {
      return;
    }
    entry.queued = true;
    entry.queuedAt = at;
    deadlines.add(new Deadline(at, endpoint));
  }

  /** Deadlines queued, for tests: about one per entry. */
  int queuedDeadlines() {
    return deadlines.size();
  }

  /** The clashing incarnation takes over the endpoint. */
  private void promoteClash(Endpoint endpoint, Entry entry) {
    Announcement clash = entry.clash;
    hold(endpoint, entry, clash);
    entry.lastHeard = entry.clashLastHeard;
    entry.expireAfter = entry.clashExpireAfter;
    entry.clash = null;
    entry.superseded = null;
  }

  /** {@code node} holds the entry from now on. */
  private void hold(Endpoint endpoint, Entry entry, Announcement node) {
    if (!entry.node.address().equals(node.address())) {
      unindex(endpoint, entry.node);
      index(endpoint, node);
    }
    entry.node = node;
  }

  private void index(Endpoint endpoint, Announcement node) {
    byAddress.computeIfAbsent(node.address(), address -> new HashSet<>(2)).add(endpoint);
  }

  private void unindex(Endpoint endpoint, Announcement node) {
    Set<Endpoint> at = byAddress.get(node.address());
    if (at != null && at.remove(endpoint) && at.isEmpty()) {
      byAddress.remove(node.address());
    }
  }

  private void remove(Endpoint endpoint) {
    Entry removed = entries.remove(endpoint);
    if (removed != null) {
      unindex(endpoint, removed.node);
      countByService.computeIfPresent(
          endpoint.service(), (service, count) -> count == 1 ? null : count - 1);
    }
  }

  private void retire(String incarnation) {
    retired.put(incarnation, Boolean.TRUE);
  }
}
