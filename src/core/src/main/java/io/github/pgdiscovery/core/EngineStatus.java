package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.PeerTable;
import io.github.pgdiscovery.core.protocol.RejectedMessageException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A point-in-time view of an engine, for operators: the runtime's connection and the protocol's
 * state.
 *
 * @param channel the channel listened on
 * @param state connection state
 * @param since wall-clock time the state was entered
 * @param lastError the last connection error (password redacted), or null
 * @param self this node's announcement
 * @param protocol what the protocol knows: readiness, peers, clashes, clock skew, message counters
 * @param reconnects successful reconnections after a lost connection
 * @param connectionAttempts connections opened or tried since start, failed ones included
 */
public record EngineStatus(
    String channel,
    ConnectionState state,
    Instant since,
    String lastError,
    Announcement self,
    DiscoveryProtocol.Snapshot protocol,
    long reconnects,
    long connectionAttempts) {

  /** Where the engine's connection stands. */
  public enum ConnectionState {
    /** Not yet connected since start. */
    CONNECTING,
    /** Listening; lookups are answered once the probe replies had time to arrive. */
    CONNECTED,
    /** Lost the connection; reconnecting with backoff. */
    RECONNECTING,
    /**
     * Connected to a server that cannot carry discovery (a standby, or through a pooler in
     * transaction mode); the error says which, and the node tries again every
     * reconnect-max-backoff.
     */
    UNSUITABLE_SERVER,
    /** Stopped for good. */
    STOPPED
  }

  /** Whether lookups are answered now. */
  public boolean ready() {
    return protocol.ready();
  }

  /** False once the node stopped announcing (left the cluster or shutting down). */
  public boolean announcing() {
    return protocol.announcing();
  }

  /** How often the node announces itself now. */
  public Duration heartbeatInterval() {
    return protocol.heartbeatInterval();
  }

  public List<PeerTable.HeardPeer> peers() {
    return protocol.peers();
  }

  public long sent() {
    return protocol.sent();
  }

  /**
   * Notifications received, this node's own echoes included; {@link #accepted} plus {@link
   * #rejectedTotal}.
   */
  public long received() {
    return protocol.received();
  }

  public long accepted() {
    return protocol.accepted();
  }

  public Map<RejectedMessageException.Reason, Long> rejected() {
    return protocol.rejected();
  }

  public long rejectedTotal() {
    return protocol.rejected().values().stream().mapToLong(Long::longValue).sum();
  }
}
