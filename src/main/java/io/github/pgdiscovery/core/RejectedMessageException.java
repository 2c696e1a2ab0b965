package io.github.pgdiscovery.core;

/** A notification payload that is not a message this version understands; it is dropped and counted. */
public final class RejectedMessageException extends Exception {

  private static final long serialVersionUID = 1L;

  /** Why a payload was dropped; each reason has its own counter. */
  public enum Reason {
    TOO_LARGE,
    NOT_JSON,
    UNSUPPORTED_VERSION,
    UNKNOWN_TYPE,
    MISSING_FIELD,
    INVALID_FIELD
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
