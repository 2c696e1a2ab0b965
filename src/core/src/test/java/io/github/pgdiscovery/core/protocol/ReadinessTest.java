package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECRET;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.ProtocolFixtures.Parts;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule of readiness on its own, with the parts it reads: connected, own view complete, no other
 * node on this node's contact point, and no clock skew until the node has joined its cluster.
 */
final class ReadinessTest {

  private static final long WINDOW = 300 * MS;

  private final Parts node = Parts.of(node(8558), s -> s.sharedSecret(SECRET));

  /** A member reconnecting: its view is complete a reply window after its announcement is back. */
  private void memberReconnects(long now) {
    node.session().connected(now, WALL0);
    node.ownProbe().connected(true);
    node.ownProbe().heardOwnAnnouncement(now);
  }

  /** Hears a validly signed message from a clock two minutes behind. */
  private void hearsSkew(long now) {
    MessageCodec.Envelope stale =
        new MessageCodec.Envelope(new Message.Announce(node(8600)), 1, WALL0 - 120_000);
    node.skew().heard(stale, new ReplayGuard(30_000), 15 * SECOND, now, WALL0, new ArrayList<>());
  }

  private List<Effect> update(long now) {
    List<Effect> out = new ArrayList<>();
    node.readiness().update(out, now);
    return out;
  }

  @Test
  void lookupsAreAnsweredOnceConnectedAndTheViewIsCompleteAndSaidOnceEachWay() {
    assertEquals(List.of(), update(T0));
    assertTrue(node.readiness().notReadyReason(T0).contains("not connected"));
    memberReconnects(T0);
    assertEquals(List.of(), update(T0 + WINDOW - 1));

    assertEquals(List.of(new Effect.ReadinessChanged(true)), update(T0 + WINDOW));
    assertEquals(List.of(), update(T0 + WINDOW + MS), "said once");
    node.session().disconnected();
    assertEquals(List.of(new Effect.ReadinessChanged(false)), update(T0 + WINDOW + 2 * MS));
    assertFalse(node.readiness().answers(SERVICE, T0 + WINDOW + 2 * MS));
  }

  @Test
  void anotherLiveNodeOnThisNodesContactPointStopsLookupsUntilItsExpiry() {
    memberReconnects(T0);
    update(T0 + WINDOW);
    Announcement self = node.self();
    Announcement impostor =
        new Announcement(
            SERVICE, self.host(), self.port(), "akka://orders@elsewhere:25520", 5, "x");

    node.ownEndpoint().heard(impostor, T0 + SECOND, 15 * SECOND);

    assertEquals(List.of(new Effect.ReadinessChanged(false)), update(T0 + SECOND));
    assertTrue(
        node.readiness().notReadyReason(T0 + SECOND).contains("akka://orders@elsewhere:25520"));
    assertEquals(List.of(), update(T0 + 16 * SECOND));
    assertEquals(List.of(new Effect.ReadinessChanged(true)), update(T0 + 16 * SECOND + 1));
  }

  @Test
  void skewKeepsANodeThatHasNotAnsweredYetFromAnswering() {
    memberReconnects(T0);
    hearsSkew(T0 + MS);

    assertEquals(List.of(), update(T0 + WINDOW));
    assertFalse(node.readiness().answers(SERVICE, T0 + WINDOW));
    assertTrue(node.readiness().notReadyReason(T0 + WINDOW).contains("clock skew"));
    assertEquals(
        List.of(new Effect.ReadinessChanged(true)),
        update(T0 + MS + 15 * SECOND + 1),
        "once the skew aged out");
  }

  @Test
  void skewHeardOnceTheNodeHasJoinedDoesNotTakeItOutOfService() {
    memberReconnects(T0);
    update(T0 + WINDOW);
    node.heartbeats().joined();

    hearsSkew(T0 + SECOND);

    assertEquals(List.of(), update(T0 + SECOND));
    assertTrue(node.readiness().ready());
  }

  @Test
  void skewHeardByANodeThatAnswersButHasNotJoinedStopsItsLookupsUntilTheSkewAgesOut() {
    memberReconnects(T0);
    update(T0 + WINDOW);

    hearsSkew(T0 + SECOND);

    assertEquals(List.of(new Effect.ReadinessChanged(false)), update(T0 + SECOND));
    assertEquals(
        List.of(new Effect.ReadinessChanged(true)),
        update(T0 + SECOND + 15 * SECOND + 1),
        "once the skew aged out");
  }

  @Test
  void aWholeRosterInHandMakesANodeReadyWhateverElseIsSkewed() {
    hearsSkew(T0);

    node.readyByRoster(T0 + MS);

    assertTrue(node.readiness().answers(SERVICE, T0 + MS));
  }
}
