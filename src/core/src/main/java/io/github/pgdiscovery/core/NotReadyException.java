package io.github.pgdiscovery.core;

/**
 * A lookup could not be answered in time because the channel is not connected, or was connected too
 * recently to have heard the other nodes. An empty answer could let Cluster Bootstrap form a second
 * cluster; failing makes it back off and ask again.
 */
public final class NotReadyException extends Exception {

  private static final long serialVersionUID = 1L;

  public NotReadyException(String message) {
    super(message, null, false, false);
  }
}
