package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.Announcement;

/**
 * Told by the engine thread when things happen, for metrics and benchmarks. Called on the engine's
 * own thread: an implementation must return quickly and must not block.
 */
public interface EngineObserver {

  /** Does nothing. */
  EngineObserver NONE = new EngineObserver() {};

  /**
   * This node's first announcement after (re)connecting has just been sent; {@code nanoTime} is
   * when sending began.
   */
  default void announced(long nanoTime) {}

  /**
   * A contact point not known before (or a new incarnation on one) has just entered the peer table.
   */
  default void peerAdded(Announcement peer, long nanoTime) {}
}
