package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECRET;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.encode;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.ProtocolFixtures.Parts;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule of what gets in, on its own: what is dropped and counted, and what a stale message is
 * news of.
 */
final class GateTest {

  private final Parts node =
      Parts.of(
          node(8558), s -> s.sharedSecret(SECRET).joinedHeartbeatInterval(Duration.ofSeconds(30)));
  private final MessageCodec peer = new MessageCodec(SECRET);
  private final List<Effect> out = new ArrayList<>();

  private MessageCodec.Envelope open(String payload, long now) {
    return node.gate().open(payload, now, WALL0, out);
  }

  private long rejected(Reason reason) {
    return node.counters().rejected().get(reason);
  }

  @Test
  void aPayloadThatDoesNotDecodeIsCountedAndDropped() {
    assertNull(open("{\"v\":1,", T0));
    assertNull(open("x".repeat(9000), T0));

    assertEquals(1L, rejected(Reason.NOT_JSON));
    assertEquals(1L, rejected(Reason.TOO_LARGE));
    assertFalse(node.skew().active(T0), "no news of skew");
  }

  @Test
  void anUnsignedPayloadIsCountedAndDroppedWhereASecretIsSet() {
    assertNull(open(new MessageCodec().encode(new Message.Announce(node(8600))), T0));

    assertEquals(1L, rejected(Reason.MISSING_SIGNATURE));
  }

  @Test
  void aSignedFreshPayloadGetsInOnceAndItsCopyIsAReplay() {
    Message.Announce message = new Message.Announce(node(8600));
    String announce = encode(peer, message, 1, WALL0);

    MessageCodec.Envelope envelope = open(announce, T0);
    assertNotNull(envelope);
    assertEquals(message, envelope.message());
    assertNull(open(announce, T0 + MS));

    assertEquals(1L, rejected(Reason.REPLAYED));
    assertFalse(node.skew().active(T0 + MS), "a replay is no news of skew");
  }

  @Test
  void aStaleAnnouncementIsNewsOfSkewForAsLongAsItsStatedIntervalKeepsAPeer() {
    String stale = encode(peer, new Message.Announce(node(8600), 30_000), 1, WALL0 - 120_000);

    assertNull(open(stale, T0));

    assertEquals(1L, rejected(Reason.STALE));
    // Expiry 15 s at 5 s heartbeats, so 90 s at 30 s.
    assertTrue(node.skew().active(T0 + 90 * SECOND));
    assertFalse(node.skew().active(T0 + 90 * SECOND + 1));
  }

  @Test
  void aStaleProbeOfEverybodyIsAnsweredAsAProbeOfThisNodesViewOnTheProbersChannel() {
    node.readyByRoster(T0);
    String prober = node(8600).incarnation();
    String stale = encode(peer, new Message.Probe(SERVICE, prober, true), 1, WALL0 - 120_000);

    assertNull(open(stale, T0 + MS));

    assertEquals(1L, rejected(Reason.STALE));
    List<Effect.Send> sent = ProtocolFixtures.sends(out);
    assertEquals(1, sent.size(), sent::toString);
    assertEquals(ReplyChannel.of("disc", prober), sent.get(0).channel());
    assertTrue(
        sent.get(0).message() instanceof Message.Roster roster && roster.to().equals(prober));
  }
}
