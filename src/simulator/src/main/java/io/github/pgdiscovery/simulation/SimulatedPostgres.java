package io.github.pgdiscovery.simulation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * One PostgreSQL database's LISTEN/NOTIFY, as src/backend/commands/async.c implements it and as
 * measured on this machine (see BENCHMARKS.md), in virtual time:
 *
 * <ul>
 *   <li>One queue, in commit order. A NOTIFY is a transaction of its own (pg_notify in autocommit);
 *       it enters the queue when it commits, that is when the statement reaches the server here,
 *       and gets the next position. With a commit latency ({@link #commitAt}), commits queue:
 *       PreCommit_Notify takes a lock that serializes every transaction that notifies and holds it
 *       until the commit is over (its WAL flush included), "so that queue entries appear in commit
 *       order, and there are never uncommitted queue entries ahead of committed ones". A slow
 *       commit (a stalled fsync) holds back every NOTIFY behind it, whoever sent it.
 *   <li>LISTEN takes effect when it commits: a backend is handed a notification if it listened on
 *       its channel when the notification committed. Each backend's inbox below is the queue as
 *       that backend reads it: the entries for its channels, committed after its LISTEN, in commit
 *       order.
 *   <li>After a NOTIFY commits, PostgreSQL 14 to 18 signal every backend of the database that
 *       listens on any channel, whatever the notification's channel ({@link
 *       Wakeups#EVERY_LISTENER}); the sender, if it listens, reads the queue itself after its
 *       commit. Each woken backend reads the queue in a transaction of its own (one commit in
 *       pg_stat_database), whether or not anything is for it. A backend already signalled and not
 *       yet reading reads both in one go: signals coalesce until the read, {@code wakeLatency}
 *       after the signal. PostgreSQL 19 ("Optimize LISTEN/NOTIFY") signals only the backends
 *       listening on that channel ({@link Wakeups#CHANNEL_LISTENERS}).
 *   <li>A backend that goes away (the client closed, crashed, or the server restarted) loses what
 *       it had not yet read; a restart empties the queue and drops every connection, and refuses
 *       connections until it is up.
 * </ul>
 *
 * Simplified, on purpose: one database (listeners of other databases of the same server are
 * signalled only when far behind, which never happens at these rates); no queue size limit (8 GB by
 * default, far above what a discovery channel holds); a backend whose client stalled keeps being
 * woken until the client gives up, then goes away at once (a real server notices a dead peer only
 * through TCP keepalive); reading costs no CPU, so there is no queueing delay under load but the
 * commits': latencies are drawn from fixed distributions; a commit whose client went away before it
 * is over is dropped (a real server would finish it).
 */
public final class SimulatedPostgres {

  /** Which backends a NOTIFY commit wakes. */
  public enum Wakeups {
    /** PostgreSQL 14 to 18: every listening backend of the database. */
    EVERY_LISTENER,
    /** PostgreSQL 19: only the backends listening on the notification's channel. */
    CHANNEL_LISTENERS
  }

  /** What the database counts, as pg_stat_database and the participants would. */
  public static final class Counters {
    /** NOTIFY transactions committed. */
    public long notifications;

    /** Queue reads by woken backends, each a transaction of its own. */
    public long wakeUps;

    /** Notifications handed to a client. */
    public long delivered;

    /** LISTEN transactions committed. */
    public long listens;

    /** Connections accepted. */
    public long connections;

    public Counters copy() {
      Counters c = new Counters();
      c.notifications = notifications;
      c.wakeUps = wakeUps;
      c.delivered = delivered;
      c.listens = listens;
      c.connections = connections;
      return c;
    }
  }

  /**
   * One committed notification; {@code sentAt} is when its sender sent the statement, for the
   * latency a reader sees.
   */
  public record Notification(
      long position,
      String channel,
      String payload,
      Backend sender,
      long committedAt,
      long sentAt) {}

  /** A server process serving one client connection. */
  public final class Backend {
    private final int pid;
    private final Object client;
    private final Consumer<List<Notification>> reader;
    private final Runnable terminated;
    private final Set<String> channels = new LinkedHashSet<>();
    private final List<Notification> inbox = new ArrayList<>();
    private boolean alive = true;
    private long pendingReadAt = Long.MIN_VALUE;
    private boolean readScheduled;

    private Backend(
        int pid, Object client, Consumer<List<Notification>> reader, Runnable terminated) {
      this.pid = pid;
      this.client = client;
      this.reader = reader;
      this.terminated = terminated;
    }

    public int pid() {
      return pid;
    }

    /** Whoever opened the connection, as given to {@link #connect}. */
    public Object client() {
      return client;
    }

    public boolean alive() {
      return alive;
    }

    public boolean listensOn(String channel) {
      return channels.contains(channel);
    }
  }

  private final EventLoop loop;
  private final SplittableRandom random;
  private final Wakeups wakeups;
  private final Latency wakeLatency;
  private final Latency commitLatency;
  private final Counters counters = new Counters();

  /** Backends listening on at least one channel, in registration order. */
  private final Set<Backend> listeners = new LinkedHashSet<>();

  private final Map<String, Set<Backend>> byChannel = new HashMap<>();
  private final Set<Backend> backends = new LinkedHashSet<>();
  private final List<Consumer<Notification>> taps = new ArrayList<>();
  private Predicate<Object> reads = client -> true;
  private boolean countWakeUps = true;
  private long pendingReads;
  private boolean up = true;

  /** Until when the commit holding the lock that orders NOTIFY commits goes on. */
  private long commitLockHeldUntil = Long.MIN_VALUE;

  private long head;
  private int nextPid = 1000;

  /**
   * @param wakeLatencyMin from a backend's signal to its read of the queue, at least
   * @param wakeLatencyMax and at most, nanoseconds
   */
  public SimulatedPostgres(
      EventLoop loop,
      SplittableRandom random,
      Wakeups wakeups,
      long wakeLatencyMin,
      long wakeLatencyMax) {
    this(loop, random, wakeups, Latency.uniform(wakeLatencyMin, wakeLatencyMax), null);
  }

  /**
   * @param wakeLatency from a backend's signal to its read of the queue
   * @param commitLatency how long a NOTIFY commit holds the lock that orders them, see {@link
   *     #commitAt}; null: no time, every commit is over when its statement arrives
   */
  public SimulatedPostgres(
      EventLoop loop,
      SplittableRandom random,
      Wakeups wakeups,
      Latency wakeLatency,
      Latency commitLatency) {
    this.loop = loop;
    this.random = random;
    this.wakeups = wakeups;
    this.wakeLatency = wakeLatency;
    this.commitLatency = commitLatency;
  }

  public Counters counters() {
    return counters;
  }

  public Wakeups wakeups() {
    return wakeups;
  }

  public boolean isUp() {
    return up;
  }

  /** Queue position of the next commit: notifications committed so far. */
  public long head() {
    return head;
  }

  /** Reads scheduled and not yet done: notifications committed and on their way to a client. */
  public long pendingReads() {
    return pendingReads;
  }

  /** Listening backends now. */
  public int listenerCount() {
    return listeners.size();
  }

  /**
   * Sees every notification as it commits, whoever listens: a recorder for replay attacks, or a
   * probe.
   */
  public void tap(Consumer<Notification> tap) {
    taps.add(tap);
  }

  /**
   * Which clients read what they are handed: a client that does not (a passive member of a large
   * simulation) is still signalled and its wake-ups counted, but nothing is queued for it, which
   * saves the simulation work, not the database. Every client reads unless set.
   */
  public void readers(Predicate<Object> reads) {
    this.reads = reads;
  }

  /**
   * Off while a large simulation sets its residents up, so that a loop over every listener per
   * commit is saved.
   */
  public void countWakeUps(boolean on) {
    this.countWakeUps = on;
  }

  /**
   * A new connection, or null while the server is down.
   *
   * @param reader gets what the backend reads for its client, at the read
   * @param terminated told when the server ends the connection (a restart)
   */
  public Backend connect(Object client, Consumer<List<String>> reader, Runnable terminated) {
    return connectTimed(
        client,
        notifications -> reader.accept(notifications.stream().map(Notification::payload).toList()),
        terminated);
  }

  /** As {@link #connect}, but the reader gets the notifications, with when they were sent. */
  public Backend connectTimed(
      Object client, Consumer<List<Notification>> reader, Runnable terminated) {
    if (!up) {
      return null;
    }
    Backend backend = new Backend(nextPid++, client, reader, terminated);
    backends.add(backend);
    counters.connections++;
    return backend;
  }

  /** LISTEN, committed now: what commits from now on on {@code channel} is for this backend. */
  public void listen(Backend backend, String channel) {
    if (!backend.alive) {
      return;
    }
    counters.listens++;
    if (backend.channels.add(channel)) {
      byChannel.computeIfAbsent(channel, c -> new LinkedHashSet<>()).add(backend);
      listeners.add(backend);
    }
  }

  /**
   * When a NOTIFY transaction whose statement arrives now commits: it waits for the lock that
   * orders such commits, first come first served, and holds it for its own commit. Now, without a
   * commit latency. The caller notifies then.
   */
  public long commitAt() {
    if (commitLatency == null) {
      return loop.now();
    }
    long start = Math.max(loop.now(), commitLockHeldUntil);
    commitLockHeldUntil = start + commitLatency.draw(random);
    return commitLockHeldUntil;
  }

  /** pg_notify(channel, payload), committed now. */
  public void notify(Backend sender, String channel, String payload) {
    notify(sender, channel, payload, loop.now());
  }

  /** pg_notify(channel, payload), sent by its client at {@code sentAt}, committed now. */
  public void notify(Backend sender, String channel, String payload, long sentAt) {
    if (!sender.alive || !up) {
      return;
    }
    Notification n = new Notification(head++, channel, payload, sender, loop.now(), sentAt);
    counters.notifications++;
    for (Consumer<Notification> tap : taps) {
      tap.accept(n);
    }
    Set<Backend> onChannel = byChannel.getOrDefault(channel, Set.of());
    if (wakeups == Wakeups.EVERY_LISTENER && countWakeUps) {
      for (Backend backend : listeners) {
        signal(backend, onChannel.contains(backend) ? n : null);
      }
    } else {
      for (Backend backend : onChannel) {
        signal(backend, n);
      }
    }
  }

  /**
   * Signals a backend; {@code forIt} is the notification if it listens on its channel, else null.
   */
  private void signal(Backend backend, Notification forIt) {
    long now = loop.now();
    if (now >= backend.pendingReadAt) {
      backend.pendingReadAt = now + latency();
      backend.readScheduled = false;
      if (countWakeUps) {
        counters.wakeUps++;
      }
    }
    if (forIt != null && reads.test(backend.client)) {
      backend.inbox.add(forIt);
      if (!backend.readScheduled) {
        backend.readScheduled = true;
        pendingReads++;
        loop.at(backend.pendingReadAt, () -> read(backend));
      }
    }
  }

  private void read(Backend backend) {
    pendingReads--;
    backend.readScheduled = false;
    if (!backend.alive || backend.inbox.isEmpty()) {
      return;
    }
    List<Notification> read = List.copyOf(backend.inbox);
    backend.inbox.clear();
    counters.delivered += read.size();
    backend.reader.accept(read);
  }

  private long latency() {
    return wakeLatency.draw(random);
  }

  /**
   * The client closed the connection, or went away: the backend exits, and what it had not read is
   * lost.
   */
  public void disconnect(Backend backend) {
    if (!backend.alive) {
      return;
    }
    backend.alive = false;
    backend.inbox.clear();
    listeners.remove(backend);
    for (String channel : backend.channels) {
      Set<Backend> set = byChannel.get(channel);
      if (set != null) {
        set.remove(backend);
        if (set.isEmpty()) {
          byChannel.remove(channel);
        }
      }
    }
    backends.remove(backend);
  }

  /**
   * The server ends one session ({@code pg_terminate_backend}, {@code idle_session_timeout}, a TCP
   * reset): its listener is gone at once, and the client is told.
   */
  public void terminate(Backend backend) {
    if (!backend.alive) {
      return;
    }
    disconnect(backend);
    backend.terminated.run();
  }

  /**
   * The server restarts: every connection is terminated (clients are told), the queue is emptied,
   * and no connection is accepted for {@code downtimeNanos}.
   */
  public void restart(long downtimeNanos) {
    up = false;
    for (Backend backend : List.copyOf(backends)) {
      disconnect(backend);
      backend.terminated.run();
    }
    loop.after(downtimeNanos, () -> up = true);
  }
}
