package io.github.pgdiscovery.core.protocol;

import java.util.BitSet;
import java.util.Map;

/**
 * Which parts of which responders' rosters a node has heard on its connection, and whether one
 * responder's whole view of its own service is in: then lookups need not wait any longer. Bounded:
 * a handful of responders answer a probe, so more are strangers making parts up, and the oldest is
 * forgotten first.
 */
final class RosterParts {

  private static final int MAX_ROSTERS_IN_PROGRESS = 64;

  private final Map<String, BitSet> heard = new BoundedMap<>(MAX_ROSTERS_IN_PROGRESS, true);
  private boolean complete;

  /** Forgets every part and whether a view was complete: a new connection, or asking anew. */
  void reset() {
    heard.clear();
    complete = false;
  }

  /** Forgets the parts heard, keeping whether a view was complete: a new round of asking. */
  void forgetParts() {
    heard.clear();
  }

  /** Parts of some roster are arriving. */
  boolean arriving() {
    return !heard.isEmpty();
  }

  /** One responder's whole view of this node's own service came in on this connection. */
  boolean complete() {
    return complete;
  }

  /**
   * Part {@code part} of {@code parts} from {@code responder}; {@code ownService} if the roster is
   * of this node's own service.
   *
   * @return whether that completed a whole view of its own service
   */
  boolean heard(String responder, int part, int parts, boolean ownService) {
    BitSet of = heard.computeIfAbsent(responder, r -> new BitSet());
    of.set(part);
    if (of.cardinality() == parts && ownService) {
      complete = true;
      return true;
    }
    return false;
  }
}
