package io.github.pgdiscovery.core.protocol;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Effect.Level;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * What the protocol's tests share: made-up times, nodes of one service on channel "disc", a
 * protocol with adjusted settings, the effects sorted out, and a node made ready alone. Times are
 * passed in; nothing waits.
 */
final class ProtocolFixtures {

  static final long MS = 1_000_000L;
  static final long SECOND = 1000 * MS;

  /** Monotonic readings have no meaning on their own: start somewhere arbitrary. */
  static final long T0 = 5_000_000_000_000L;

  static final long WALL0 = 1_763_769_600_000L;
  static final String SECRET = "0123456789abcdef-test-secret";
  static final String SERVICE = "orders";

  private ProtocolFixtures() {}

  static DiscoverySettings settings(UnaryOperator<DiscoverySettings.Builder> adjust) {
    return adjust
        .apply(DiscoverySettings.builder("jdbc:postgresql://db/app").channel("disc"))
        .build();
  }

  static Announcement node(int port) {
    return node(port, UUID.randomUUID().toString());
  }

  static Announcement node(int port, String incarnation) {
    return new Announcement(
        SERVICE,
        "10.0.0." + (port % 250),
        port,
        "akka://orders@10.0.0." + (port % 250) + ":25520",
        port * 31L,
        incarnation);
  }

  static DiscoveryProtocol protocol(
      Announcement self, UnaryOperator<DiscoverySettings.Builder> adjust) {
    return new DiscoveryProtocol(settings(adjust), self, new SplittableRandom(1));
  }

  static List<Effect.Send> sends(List<Effect> effects) {
    return effects.stream()
        .filter(Effect.Send.class::isInstance)
        .map(Effect.Send.class::cast)
        .toList();
  }

  static List<Effect.Notice> notices(List<Effect> effects, Level level) {
    return effects.stream()
        .filter(Effect.Notice.class::isInstance)
        .map(Effect.Notice.class::cast)
        .filter(n -> n.level() == level)
        .toList();
  }

  /**
   * Connects as the only node on the channel: hears its own announcement and probe come back; no
   * roster comes, so after the reply window it asks again, then everybody, hears that probe back
   * too, and after one more window is ready.
   */
  static long makeReady(DiscoveryProtocol protocol, long now) {
    List<Effect> out = protocol.connected(now, WALL0);
    long t = now;
    for (int round = 0; round < 8 && !protocol.isReady(); round++) {
      t += MS;
      for (Effect.Send send : sends(out)) {
        protocol.received(send.payload(), t, WALL0 + 1);
      }
      t += protocol.settings().timing().probeReplyWindow().toNanos();
      out = protocol.tick(t, WALL0 + 400);
    }
    long after = t;
    assertTrue(protocol.isReady(), () -> protocol.notReadyReason(after));
    return after;
  }

  static String encode(MessageCodec codec, Message message, long seq, long wall) {
    return codec.encode(message, seq, wall);
  }

  /**
   * The protocol's parts of one probing node, wired as {@link DiscoveryProtocol} wires them, for
   * the tests that drive one part directly: no front, no effects carried out.
   */
  record Parts(
      Announcement self,
      DiscoverySettings settings,
      MessageCodec codec,
      PeerTable peers,
      Counters counters,
      Session session,
      Announcing heartbeats,
      OwnProbe ownProbe,
      ClusterMembers members,
      OwnEndpointClash ownEndpoint,
      ClockSkew skew,
      Readiness readiness,
      CatchUp catchUp,
      Responder responder,
      ViewIntake intake,
      Gate gate) {

    static Parts of(Announcement self, UnaryOperator<DiscoverySettings.Builder> adjust) {
      DiscoverySettings settings = ProtocolFixtures.settings(adjust);
      DiscoverySettings.Timing timing = settings.timing();
      int maxPeers = settings.security().maxPeersPerService();
      MessageCodec codec = new MessageCodec(settings.security().sharedSecret());
      PeerTable peers = new PeerTable(maxPeers, DiscoverySettings.Security.MAX_SERVICES);
      peers.keep(self.service());
      Counters counters = new Counters(settings);
      Session session = new Session(timing, codec.signs());
      Announcing heartbeats = new Announcing(timing, new SplittableRandom(1));
      OwnProbe ownProbe = new OwnProbe(self, timing, peers);
      ClusterMembers members = new ClusterMembers(maxPeers, timing.watchedPeerTtlNanos());
      OwnEndpointClash ownEndpoint = new OwnEndpointClash();
      ClockSkew skew = new ClockSkew(settings);
      Readiness readiness =
          new Readiness(self, settings, session, ownProbe, ownEndpoint, skew, heartbeats);
      CatchUp catchUp = new CatchUp();
      Responder responder =
          new Responder(
              self,
              settings,
              codec,
              new Sender(codec, counters),
              counters,
              new Responder.Parts(
                  peers, members, heartbeats, session, readiness, ownProbe, catchUp));
      ViewIntake intake =
          new ViewIntake(self, settings, peers, members, ownEndpoint, responder, counters);
      Gate gate = new Gate(settings, codec, skew, responder, counters);
      return new Parts(
          self,
          settings,
          codec,
          peers,
          counters,
          session,
          heartbeats,
          ownProbe,
          members,
          ownEndpoint,
          skew,
          readiness,
          catchUp,
          responder,
          intake,
          gate);
    }

    /**
     * Connects at {@code now}, hears its own probe back at once, and one responder's whole roster
     * (empty): answering lookups from {@code now} on.
     */
    void readyByRoster(long now) {
      session.connected(now, WALL0);
      responder.connected();
      heartbeats.connected(now);
      ownProbe.connected(false);
      for (Message.Probe probe : ownProbe.takeProbes(now)) {
        ownProbe.heardOwn(probe, now, counters.receivedSoFar());
      }
      ownProbe.rosterHeard("a-responder", 0, 1, true);
      readiness.update(new ArrayList<>(), now);
      assertTrue(readiness.ready(), () -> readiness.notReadyReason(now));
    }
  }
}
