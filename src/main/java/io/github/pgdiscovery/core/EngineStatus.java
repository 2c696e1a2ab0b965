package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.PeerTable;
import io.github.pgdiscovery.core.protocol.RejectedMessageException;
import io.github.pgdiscovery.core.protocol.Announcement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A point-in-time view of an engine, for operators.
 *
 * @param channel the channel listened on
 * @param state connection state
 * @param since wall-clock time the state was entered
 * @param lastError the last connection error (password redacted), or null
 * @param ready whether lookups are answered now (connected, own probe heard back, reply window over)
 * @param self this node's announcement
 * @param announcing false once the node stopped announcing (left the cluster or shutting down)
 * @param heartbeatInterval how often the node announces itself now: the joined interval once it has joined its
 *     cluster, the normal one before
 * @param peers the live peers heard, with their age
 * @param sent notifications sent
 * @param received notifications received, including this node's own echoes
 * @param accepted received notifications that were valid messages and were acted on; with {@code rejected}, adds
 *     up to {@code received}
 * @param rejected received payloads dropped, by reason
 * @param reconnects successful reconnections after a lost connection
 */
public record EngineStatus(
    String channel,
    ConnectionState state,
    Instant since,
    String lastError,
    boolean ready,
    Announcement self,
    boolean announcing,
    Duration heartbeatInterval,
    List<PeerTable.HeardPeer> peers,
    long sent,
    long received,
    long accepted,
    Map<RejectedMessageException.Reason, Long> rejected,
    long reconnects) {

  /** Where the engine's connection stands. */
  public enum ConnectionState {
    /** Not yet connected since start. */
    CONNECTING,
    /** Listening; lookups are answered once the probe replies had time to arrive. */
    CONNECTED,
    /** Lost the connection; reconnecting with backoff. */
    RECONNECTING,
    /** Stopped for good. */
    STOPPED
  }

  public long rejectedTotal() {
    return rejected.values().stream().mapToLong(Long::longValue).sum();
  }
}
