package io.github.pgdiscovery.core.protocol;

/**
 * A notification payload that is not a message this version understands; it is dropped and counted.
 */
public final class RejectedMessageException extends Exception {

  private static final long serialVersionUID = 1L;

  /** Why a payload was dropped; each reason has its own counter. */
  public enum Reason {
    /** Larger than any message we send. */
    TOO_LARGE,
    /** Not a JSON object. */
    NOT_JSON,
    /** A version this node does not speak. */
    UNSUPPORTED_VERSION,
    /**
     * A message type this node does not know, in a version it speaks: what a later release may add.
     * Counted and ignored, not warned about, so that a new release can roll through a cluster of
     * old ones.
     */
    UNKNOWN_TYPE,
    /** A required field is absent. */
    MISSING_FIELD,
    /** A field has the wrong type or is out of range. */
    INVALID_FIELD,
    /** This node has a shared secret and the message carries no signature. */
    MISSING_SIGNATURE,
    /** The signature does not match: a different secret, or a forged or altered message. */
    BAD_SIGNATURE,
    /** Signed, but its timestamp is outside the replay window of this node's clock. */
    STALE,
    /** Signed, but not newer than a message already heard from the same incarnation: a replay. */
    REPLAYED,
    /** A new contact point for a service that already has the maximum number of peers. */
    TABLE_FULL,
    /**
     * From an incarnation that said goodbye or that the cluster removed: its late or replayed
     * heartbeats must not bring it back.
     */
    RETIRED,
    /**
     * For a service this node neither announces nor looks up: another cluster on the same channel.
     * Kept out of the table so that invented service names cannot grow it; counted, never warned
     * about.
     */
    OTHER_SERVICE,
    /**
     * From a node of another toolkit (an {@code akka://} address heard by a Pekko node, or the
     * other way round) on this node's own service: the two cannot form one cluster. Logged as an
     * error of its own, once a minute.
     */
    OTHER_TOOLKIT,
    /** A roster addressed to another node: misrouted, or replayed onto this node's channel. */
    MISADDRESSED;

    /**
     * Whether drops for this reason call for the general warning; the others are normal or reported
     * apart.
     */
    public boolean warns() {
      return this != OTHER_SERVICE
          && this != RETIRED
          && this != OTHER_TOOLKIT
          && this != UNKNOWN_TYPE;
    }
  }

  private final Reason reason;

  public RejectedMessageException(Reason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
