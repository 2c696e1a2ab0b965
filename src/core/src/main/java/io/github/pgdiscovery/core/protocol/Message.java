package io.github.pgdiscovery.core.protocol;

import java.util.List;
import java.util.Objects;

/** What nodes say to each other on the channel. */
public sealed interface Message
    permits Message.Announce, Message.Probe, Message.Goodbye, Message.Roster {

  /** The service the message is about. */
  String service();

  /** The incarnation (process start) of the node that sent the message. */
  String incarnation();

  /**
   * "I am here": sent on connect, on every heartbeat, and in reply to a probe for the sender's
   * service. {@code intervalMillis} is how often the sender announces itself now, so that receivers
   * can scale its expiry; 0 when not stated. {@code watched}: the sender is Up in its cluster and
   * announces no more (joined heartbeats off); its cluster watches it, and removes it from the
   * receivers' views (see {@link DiscoveryProtocol}).
   */
  record Announce(Announcement node, long intervalMillis, boolean watched) implements Message {
    public Announce {
      Objects.requireNonNull(node, "node");
      if (intervalMillis < 0 || intervalMillis > MessageCodec.MAX_INTERVAL_MILLIS) {
        throw new IllegalArgumentException(
            "intervalMillis must be from 0 to " + MessageCodec.MAX_INTERVAL_MILLIS);
      }
      if (watched && intervalMillis != 0) {
        throw new IllegalArgumentException("a watched node states no interval");
      }
    }

    /** An announcement stating the interval the sender heartbeats at, or 0 for none stated. */
    public Announce(Announcement node, long intervalMillis) {
      this(node, intervalMillis, false);
    }

    /** An announcement that does not state the sender's interval. */
    public Announce(Announcement node) {
      this(node, 0);
    }

    /** The announcement of a node its cluster watches: no more heartbeats from it. */
    public static Announce watched(Announcement node) {
      return new Announce(node, 0, true);
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
   * "Who is there?": the first responders of {@code service} (see {@link DiscoveryProtocol}) answer
   * with a {@link Roster} of their whole view; with {@code all}, every node announcing {@code
   * service} answers with its own {@link Announce} instead, the fallback when no roster came, on
   * the channel, so that every node waiting for a view (a cold start) takes those answers as its
   * own and needs no roster. The sender's incarnation lets it recognise its own probe when Postgres
   * echoes it back. {@code view}, when present, is the digest of the incarnations the sender
   * already knows for the service ({@link DiscoveryProtocol#viewDigest}): a responder whose own
   * view has the same digest answers with an empty roster ("nothing you do not know") instead of
   * its whole view. {@code attempt} counts the sender's probes that no roster answered before this
   * one (0 for the first): the first responders answer every attempt, and from the second on the
   * next two in rank answer too, so a probe whose first responders crashed or are reconnecting
   * still gets a roster without asking everybody.
   */
  record Probe(String service, String senderIncarnation, boolean all, String view, int attempt)
      implements Message {
    public Probe {
      Objects.requireNonNull(service, "service");
      Objects.requireNonNull(senderIncarnation, "senderIncarnation");
      if (view != null && all) {
        throw new IllegalArgumentException("a probe of everybody carries no view");
      }
      if (attempt < 0 || attempt > MAX_ATTEMPT) {
        throw new IllegalArgumentException("attempt must be from 0 to " + MAX_ATTEMPT);
      }
      if (attempt > 0 && all) {
        throw new IllegalArgumentException("a probe of everybody has no attempt");
      }
    }

    /**
     * The largest attempt a probe may state; a sender gives up on rosters and asks everybody long
     * before.
     */
    public static final int MAX_ATTEMPT = 1000;

    /**
     * A first attempt, answered by the first responders' rosters or, with {@code all}, by
     * everybody.
     */
    public Probe(String service, String senderIncarnation, boolean all, String view) {
      this(service, senderIncarnation, all, view, 0);
    }

    /** A probe answered by the responders' rosters. */
    public Probe(String service, String senderIncarnation) {
      this(service, senderIncarnation, false, null);
    }

    /** A probe of everybody ({@code all}), or one answered by the responders' rosters. */
    public Probe(String service, String senderIncarnation, boolean all) {
      this(service, senderIncarnation, all, null);
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
   * {@code to} alone, each entry with how long the responder would still keep it. Parts are
   * numbered from 0; the prober knows the view is complete once it has all {@code parts} of one
   * responder.
   */
  record Roster(
      String service, String senderIncarnation, String to, int part, int parts, List<Entry> entries)
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

    /**
     * A contact point the responder keeps, and for how long it would still keep it unheard; {@link
     * #WATCHED} (0) for a node that announced its cluster watches it.
     */
    public record Entry(Announcement node, long ttlMillis) {
      public static final long WATCHED = 0;

      public Entry {
        Objects.requireNonNull(node, "node");
        if (ttlMillis < 0) {
          throw new IllegalArgumentException("ttlMillis must not be negative");
        }
      }

      public boolean watched() {
        return ttlMillis == WATCHED;
      }
    }
  }
}
