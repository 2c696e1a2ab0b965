package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECRET;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.encode;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.makeReady;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.protocol;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Skew spoils readiness until the node has joined its cluster, not only until it first answers: a
 * node that answers lookups but has not joined is still deciding, with Cluster Bootstrap, on what
 * it heard, and a peer whose signed messages it cannot accept may be missing from its view. (That a
 * member is left alone is {@code aSkewedNewcomerDoesNotTakeAnAnsweringMemberOutOfService}.)
 */
final class ReadinessUntilJoinedTest {

  private static final long AHEAD_FIVE_MINUTES = 300_000;

  @Test
  void aReadyNodeThatHasNotJoinedStopsAnsweringWhileItHearsAPeerItCannotAccept() {
    DiscoveryProtocol alone = protocol(node(8558), s -> s.sharedSecret(SECRET));
    long now = makeReady(alone, T0);

    alone.received(
        encode(
            new MessageCodec(SECRET),
            new Message.Probe(SERVICE, "skewed-newcomer"),
            1,
            WALL0 + AHEAD_FIVE_MINUTES),
        now,
        WALL0);
    alone.tick(now + 1, WALL0);

    // Alone on the channel, it would found a cluster of one that the newcomer can never join.
    assertFalse(alone.isReady(), alone.notReadyReason(now + 1));
    assertTrue(alone.notReadyReason(now + 1).contains("clock skew"));
  }
}
