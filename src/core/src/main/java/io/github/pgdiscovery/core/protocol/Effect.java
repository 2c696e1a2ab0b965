package io.github.pgdiscovery.core.protocol;

/**
 * What the protocol asks its runtime to do, or tells it, after an input: it does nothing itself.
 */
public sealed interface Effect
    permits Effect.Send,
        Effect.ReadinessChanged,
        Effect.PeerAdded,
        Effect.PeerRemoved,
        Effect.Notice {

  /** Notify {@code channel} with {@code payload}, the encoded {@code message}. */
  record Send(String channel, String payload, Message message) implements Effect {}

  /** Lookups are answered from now on ({@code ready}), or no longer. */
  record ReadinessChanged(boolean ready) implements Effect {}

  /** A contact point not known before, or a new incarnation on one, entered the table. */
  record PeerAdded(Announcement peer) implements Effect {}

  /** A contact point left the table. */
  record PeerRemoved(Announcement peer, String why) implements Effect {}

  /**
   * Something for the operator's log, already rate-limited where it could repeat: the protocol
   * decides what is worth saying, the runtime only writes it.
   */
  record Notice(Level level, String text) implements Effect {}

  /** Log levels, as SLF4J has them. */
  enum Level {
    DEBUG,
    INFO,
    WARN,
    ERROR
  }
}
