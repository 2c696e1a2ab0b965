package io.github.pgdiscovery.core.protocol;

import java.util.List;
import java.util.Objects;

/** What nodes say to each other on the channel. */
public sealed interface Message permits Message.Announce, Message.Probe, Message.Goodbye, Message.Roster {

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
   * "Who is there?": the first responders of {@code service} (see {@link DiscoveryProtocol}) answer with a
   * {@link Roster} of their whole view; with {@code all}, every node announcing {@code service} answers with its
   * own {@link Announce} instead, the fallback when no roster came. The sender's incarnation lets it recognise its
   * own probe when Postgres echoes it back.
   */
  record Probe(String service, String senderIncarnation, boolean all) implements Message {
    public Probe {
      Objects.requireNonNull(service, "service");
      Objects.requireNonNull(senderIncarnation, "senderIncarnation");
    }

    /** A probe answered by the responders' rosters. */
    public Probe(String service, String senderIncarnation) {
      this(service, senderIncarnation, false);
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

  /**
   * "Everybody I know of": one part of a responder's view of {@code service}, sent to the prober
   * {@code to} alone, each entry with how long the responder would still keep it. Parts are numbered from 0; the
   * prober knows the view is complete once it has all {@code parts} of one responder.
   */
  record Roster(String service, String senderIncarnation, String to, int part, int parts, List<Entry> entries)
      implements Message {
    public Roster {
      Objects.requireNonNull(service, "service");
      Objects.requireNonNull(senderIncarnation, "senderIncarnation");
      Objects.requireNonNull(to, "to");
      entries = List.copyOf(entries);
      if (parts < 1 || part < 0 || part >= parts) {
        throw new IllegalArgumentException("part " + part + " of " + parts);
      }
    }

    @Override
    public String incarnation() {
      return senderIncarnation;
    }

    /** A contact point the responder keeps, and for how long it would still keep it unheard. */
    public record Entry(Announcement node, long ttlMillis) {
      public Entry {
        Objects.requireNonNull(node, "node");
        if (ttlMillis < 1) {
          throw new IllegalArgumentException("ttlMillis must be positive");
        }
      }
    }
  }
}
