package io.github.pgdiscovery.bench;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Effect;
import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.protocol.MessageCodec;
import io.github.pgdiscovery.core.protocol.PeerTable;
import io.github.pgdiscovery.core.protocol.Protocol;
import io.github.pgdiscovery.core.protocol.RejectedMessageException;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.core.settings.DiscoverySettings.Timing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * Heartbeats only, as libcluster_postgres does, for comparison: every node announces on connect and
 * every heartbeat interval (the joined interval once its cluster has it Up, if one is set), with
 * ±10% jitter; it knows what it heard, and answers lookups a reply window after its own
 * announcement came back. No probes, no rosters, no silence once joined. Never for production: a
 * newcomer knows its peers only after a whole interval, and every heartbeat wakes every backend.
 */
final class HeartbeatOnlyProtocol implements Protocol {

  private final DiscoverySettings settings;
  private final Timing timing;
  private final Announcement self;
  private final RandomGenerator random;
  private final MessageCodec codec;
  private final PeerTable peers;
  private final Map<String, Long> sentByType = new TreeMap<>();

  private boolean connected;
  private boolean announcing;
  private boolean stopRequested;
  private boolean joined;
  private long nextHeartbeat;
  private Long echoAt;
  private boolean ready;
  private long seq;
  private long sent;
  private long received;
  private long accepted;

  HeartbeatOnlyProtocol(DiscoverySettings settings, Announcement self, RandomGenerator random) {
    this.settings = settings;
    this.timing = settings.timing();
    this.self = self;
    this.random = random;
    this.codec = new MessageCodec(settings.security().sharedSecret());
    this.peers =
        new PeerTable(
            settings.security().maxPeersPerService(), DiscoverySettings.Security.MAX_SERVICES);
    peers.keep(self.service());
  }

  @Override
  public Announcement self() {
    return self;
  }

  @Override
  public DiscoverySettings settings() {
    return settings;
  }

  @Override
  public List<String> channels() {
    return List.of(settings.channel());
  }

  @Override
  public List<Effect> connected(long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    connected = true;
    echoAt = null;
    announcing = !stopRequested;
    if (announcing) {
      announce(out, now, wallMillis);
    }
    update(out, now);
    return out;
  }

  @Override
  public List<Effect> disconnected(long now) {
    List<Effect> out = new ArrayList<>();
    connected = false;
    announcing = false;
    update(out, now);
    return out;
  }

  @Override
  public List<Effect> received(String payload, long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    received++;
    expire(out, now);
    Message message;
    try {
      message = codec.open(payload).message();
    } catch (RejectedMessageException e) {
      return out;
    }
    if (message instanceof Message.Announce announce) {
      accepted++;
      Announcement node = announce.node();
      if (node.incarnation().equals(self.incarnation())) {
        if (echoAt == null) {
          echoAt = now;
        }
      } else if (peers.admit(node, now, timing.expireAfterNanos(announce.intervalMillis()))
          == PeerTable.Admission.NEW) {
        out.add(new Effect.PeerAdded(node));
      }
    } else if (message instanceof Message.Goodbye goodbye) {
      accepted++;
      if (peers.goodbye(goodbye.node())) {
        out.add(new Effect.PeerRemoved(goodbye.node(), "said goodbye"));
      }
    }
    update(out, now);
    return out;
  }

  @Override
  public List<Effect> tick(long now, long wallMillis) {
    List<Effect> out = new ArrayList<>();
    if (connected && announcing) {
      if (stopRequested) {
        announcing = false;
        send(out, new Message.Goodbye(self), wallMillis);
      } else if (now - nextHeartbeat >= 0) {
        announce(out, now, wallMillis);
      }
    }
    expire(out, now);
    update(out, now);
    return out;
  }

  @Override
  public long nextDeadline(long now) {
    long next = now + TimeUnit.SECONDS.toNanos(1);
    if (connected && announcing) {
      if (stopRequested) {
        return now;
      }
      next = earlier(next, nextHeartbeat);
    }
    if (connected && !ready && echoAt != null) {
      long readyAt = echoAt + timing.probeReplyWindow().toNanos();
      if (readyAt - now > 0) {
        next = earlier(next, readyAt);
      }
    }
    long expiry = peers.nextExpiryNanos();
    return expiry == Long.MAX_VALUE ? next : earlier(next, expiry);
  }

  @Override
  public List<Effect> joined() {
    joined = true;
    return List.of();
  }

  @Override
  public List<Effect> memberUp(String address, long uid) {
    return isSelf(address, uid) ? joined() : List.of();
  }

  @Override
  public List<Effect> memberRemoved(String address, long uid) {
    if (isSelf(address, uid)) {
      stopRequested = true;
    }
    return List.of();
  }

  @Override
  public List<Effect> stopAnnouncing() {
    stopRequested = true;
    return List.of();
  }

  @Override
  public Optional<List<Announcement>> lookup(String service, long now) {
    peers.keep(service);
    return ready ? Optional.of(peers.contactPoints(service, self, now)) : Optional.empty();
  }

  @Override
  public boolean isReady() {
    return ready;
  }

  @Override
  public boolean isUpInCluster() {
    return joined && !stopRequested;
  }

  @Override
  public String notReadyReason(long now) {
    return connected
        ? "heartbeats only: waiting a reply window after this node's own announcement"
        : "not connected";
  }

  @Override
  public DiscoveryProtocol.Snapshot snapshot(long now) {
    return new DiscoveryProtocol.Snapshot(
        ready,
        !stopRequested,
        interval(),
        peers.snapshot(now),
        List.of(),
        0,
        sent,
        new TreeMap<>(sentByType),
        received,
        accepted,
        Map.of(),
        0,
        0);
  }

  private void announce(List<Effect> out, long now, long wallMillis) {
    Duration interval = interval();
    send(out, new Message.Announce(self, interval.toMillis()), wallMillis);
    nextHeartbeat = now + (long) (interval.toNanos() * (0.9 + 0.2 * random.nextDouble()));
  }

  private Duration interval() {
    return joined && !timing.silentOnceJoined()
        ? timing.joinedHeartbeatInterval()
        : timing.heartbeatInterval();
  }

  private void send(List<Effect> out, Message message, long wallMillis) {
    out.add(new Effect.Send(settings.channel(), codec.encode(message, ++seq, wallMillis), message));
    sent++;
    sentByType.merge(message instanceof Message.Goodbye ? "goodbye" : "announce", 1L, Long::sum);
  }

  private void expire(List<Effect> out, long now) {
    for (PeerTable.Departure gone : peers.expire(now)) {
      out.add(new Effect.PeerRemoved(gone.node(), gone.why()));
    }
  }

  private void update(List<Effect> out, long now) {
    boolean nowReady =
        connected && echoAt != null && now - echoAt >= timing.probeReplyWindow().toNanos();
    if (nowReady != ready) {
      ready = nowReady;
      out.add(new Effect.ReadinessChanged(nowReady));
    }
  }

  private boolean isSelf(String address, long uid) {
    return address.equals(self.address()) && uid == self.uid();
  }

  private static long earlier(long a, long b) {
    return a - b <= 0 ? a : b;
  }
}
