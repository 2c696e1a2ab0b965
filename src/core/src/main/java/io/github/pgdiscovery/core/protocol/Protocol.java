package io.github.pgdiscovery.core.protocol;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * What the engine and the simulator run for one node: inputs in, {@link Effect}s out, no thread,
 * clock or I/O of its own. {@link DiscoveryProtocol} is the library's; the benchmarks bring one of
 * their own to compare with (heartbeats only, as libcluster_postgres does). Not thread-safe.
 */
public interface Protocol {

  /** Makes the protocol of one node; {@code random} draws its jitter. */
  @FunctionalInterface
  interface Factory {
    Protocol create(DiscoverySettings settings, Announcement self, RandomGenerator random);
  }

  Announcement self();

  DiscoverySettings settings();

  /** The channels to LISTEN on before {@link #connected}. */
  List<String> channels();

  /** The connection is up and listening on {@link #channels()}. */
  List<Effect> connected(long now, long wallMillis);

  /** The connection is gone. */
  List<Effect> disconnected(long now);

  /** A notification arrived on one of {@link #channels()}. */
  List<Effect> received(String payload, long now, long wallMillis);

  /** Time passed. */
  List<Effect> tick(long now, long wallMillis);

  /** When the next {@link #tick} is due, on the monotonic clock; at most a second ahead of now. */
  long nextDeadline(long now);

  /** This node has joined its cluster. */
  List<Effect> joined();

  /** The cluster says this member is Up; it may be this node. */
  List<Effect> memberUp(String address, long uid);

  /** The cluster removed this member; it may be this node. */
  List<Effect> memberRemoved(String address, long uid);

  /** Stop announcing and say goodbye at the next tick. */
  List<Effect> stopAnnouncing();

  /** The contact points of {@code service}; empty while lookups of it are not answered. */
  Optional<List<Announcement>> lookup(String service, long now);

  boolean isReady();

  /** The cluster reported this node Up, and it has neither been removed nor begun to shut down. */
  boolean isUpInCluster();

  /** Why lookups are not answered now. */
  String notReadyReason(long now);

  /** What an operator sees. */
  DiscoveryProtocol.Snapshot snapshot(long now);
}
