package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.Effect;
import io.github.pgdiscovery.core.protocol.Effects;
import io.github.pgdiscovery.core.protocol.Protocol;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the connection thread does with one connection, step by step and without blocking: the
 * engine runs it over pgjdbc and the real clock, the simulator over its simulated PostgreSQL and
 * clock, so that both follow the same rules. Each step hands the protocol an input, carries out its
 * effects but the sends, and returns the sends, for the caller to commit together.
 *
 * <p>The rules: what reached the client is read before the protocol acts on time (a timer due now
 * must not decide on a view that misses what is already here); the connection is checked with a
 * round trip once nothing was sent on it for {@code connection-check-interval} (heard notifications
 * do not count: to the server a session that only listens is idle, and one with {@code
 * idle_session_timeout} set ends it).
 *
 * <p>Calls on the protocol hold its monitor, as lookups from other threads do.
 */
@Internal
public final class ConnectionLoop {

  private final Protocol protocol;
  private final Effects.Sink sink;
  private final long checkIntervalNanos;
  private long lastStatement;

  /** A new connection, opened at {@code now}. */
  public ConnectionLoop(
      Protocol protocol, Effects.Sink sink, DiscoverySettings settings, long now) {
    this.protocol = protocol;
    this.sink = sink;
    this.checkIntervalNanos = settings.database().connectionCheckInterval().toNanos();
    this.lastStatement = now;
  }

  /** The connection listens on the protocol's channels: what the protocol sends first. */
  public List<Effect.Send> connected(long now, long wallMillis) {
    return step(() -> protocol.connected(now, wallMillis));
  }

  /**
   * What one read brought, in order: the protocol takes each; what it says to all of them goes out
   * in one transaction, one round of wake-ups on the server.
   */
  public List<Effect.Send> read(List<String> payloads, long now, long wallMillis) {
    if (payloads.isEmpty()) {
      return List.of();
    }
    return step(
        () -> {
          List<Effect> effects = new ArrayList<>();
          for (String payload : payloads) {
            effects.addAll(protocol.received(payload, now, wallMillis));
          }
          return effects;
        });
  }

  /** Time passed: call after reading what had arrived. */
  public List<Effect.Send> tick(long now, long wallMillis) {
    return step(() -> protocol.tick(now, wallMillis));
  }

  /** When the protocol next needs a tick. */
  public long nextDeadline(long now) {
    synchronized (protocol) {
      return protocol.nextDeadline(now);
    }
  }

  /** Statements went out on the connection now: sends, or a check. */
  public void sent(long now) {
    lastStatement = now;
  }

  /** Whether the connection is to be checked now: nothing was sent on it for the interval. */
  public boolean checkDue(long now) {
    return now - lastStatement >= checkIntervalNanos;
  }

  private List<Effect.Send> step(Supplier<List<Effect>> input) {
    List<Effect> effects;
    synchronized (protocol) {
      effects = input.get();
    }
    return Effects.carryOut(effects, sink);
  }
}
