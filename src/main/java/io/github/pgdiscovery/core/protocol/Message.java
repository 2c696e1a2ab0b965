package io.github.pgdiscovery.core.protocol;

import java.util.Objects;

/** What nodes say to each other on the channel. */
public sealed interface Message permits Message.Announce, Message.Probe, Message.Goodbye {

  /** The service the message is about. */
  String service();

  /** The incarnation (process start) of the node that sent the message. */
  String incarnation();

  /**
   * "I am here": sent on connect, on every heartbeat, and in reply to a probe for the sender's service.
   * {@code intervalMillis} is how often the sender announces itself now, so that receivers can scale its expiry;
   * 0 when not stated.
   */
  record Announce(Announcement node, long intervalMillis) implements Message {
    public Announce {
      Objects.requireNonNull(node, "node");
      if (intervalMillis < 0 || intervalMillis > MessageCodec.MAX_INTERVAL_MILLIS) {
        throw new IllegalArgumentException("intervalMillis must be from 0 to " + MessageCodec.MAX_INTERVAL_MILLIS);
      }
    }

    /** An announcement that does not state the sender's interval. */
    public Announce(Announcement node) {
      this(node, 0);
    }

    @Override
    public String service() {
      return node.service();
    }

    @Override
    public String incarnation() {
      return node.incarnation();
    }
  }

  /**
   * "Who is there?": every node announcing {@code service} replies with an {@link Announce} at once. The sender's
   * incarnation lets it recognise its own probe when Postgres echoes it back.
   */
  record Probe(String service, String senderIncarnation) implements Message {
    public Probe {
      Objects.requireNonNull(service, "service");
      Objects.requireNonNull(senderIncarnation, "senderIncarnation");
    }

    @Override
    public String incarnation() {
      return senderIncarnation;
    }
  }

  /** "I am leaving": receivers drop the entry at once if it is still this incarnation's. */
  record Goodbye(Announcement node) implements Message {
    public Goodbye {
      Objects.requireNonNull(node, "node");
    }

    @Override
    public String service() {
      return node.service();
    }

    @Override
    public String incarnation() {
      return node.incarnation();
    }
  }
}
