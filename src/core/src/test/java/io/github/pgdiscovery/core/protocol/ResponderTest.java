package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.sends;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.ProtocolFixtures.Parts;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule of answering a probe, on its own, where the scenarios through the front cannot reach
 * easily: probes held while the node is not ready, and when a roster may be empty.
 */
final class ResponderTest {

  private final Parts node = Parts.of(node(8558), s -> s);

  /** Connected, its own probe back, no roster yet: not answering lookups. */
  private void waitsForItsView(long now) {
    node.session().connected(now, WALL0);
    node.responder().connected();
    node.heartbeats().connected(now);
    node.ownProbe().connected(false);
    for (Message.Probe probe : node.ownProbe().takeProbes(now)) {
      node.ownProbe().heardOwn(probe, now, 0);
    }
  }

  private List<Effect.Send> answer(Message.Probe probe, long now) {
    List<Effect> out = new ArrayList<>();
    node.responder().reply(probe, now, WALL0, out);
    return sends(out);
  }

  private List<Effect.Send> becomesReady(long now) {
    node.ownProbe().rosterHeard("a-responder", 0, 1, true);
    List<Effect> out = new ArrayList<>();
    node.readiness().update(out, now);
    node.responder().answerHeldProbes(now, WALL0, out);
    return sends(out);
  }

  @Test
  void aProbeHeardWhileNotReadyIsHeldAndAnsweredOnTheProbersChannelOnceReady() {
    waitsForItsView(T0);

    assertEquals(List.of(), answer(new Message.Probe(SERVICE, "p1"), T0 + MS));
    List<Effect.Send> answered = becomesReady(T0 + SECOND);

    assertEquals(1, answered.size(), answered::toString);
    assertEquals(ReplyChannel.of("disc", "p1"), answered.get(0).channel());
  }

  @Test
  void aProbeHeldLongerThanAnExpiryIsNotAnswered() {
    waitsForItsView(T0);
    answer(new Message.Probe(SERVICE, "p1"), T0 + MS);

    assertEquals(List.of(), becomesReady(T0 + MS + 15 * SECOND + 1), "the prober asked again");
  }

  @Test
  void anEmptyRosterOnlyWhenTheViewsAgreeAndItsClusterVouchesForEveryWatchedPeer() {
    node.readyByRoster(T0);
    // Once there are members, only members answer.
    node.heartbeats().joined();
    Announcement watched = node(8600);
    node.peers().admit(watched, T0, 60 * SECOND);
    node.peers().watched(watched, true);
    String sameView = ViewDigest.of(node.peers(), SERVICE, node.self(), T0);

    Message.Roster unvouched =
        (Message.Roster)
            answer(new Message.Probe(SERVICE, "p1", false, sameView), T0 + MS).get(0).message();
    node.members().up(watched.address(), watched.uid());
    Message.Roster vouched =
        (Message.Roster)
            answer(new Message.Probe(SERVICE, "p2", false, sameView), T0 + MS).get(0).message();
    Message.Roster otherView =
        (Message.Roster)
            answer(new Message.Probe(SERVICE, "p3", false, "another view"), T0 + MS)
                .get(0)
                .message();

    assertEquals(2, unvouched.entries().size(), "the view, which keeps the peer its stay only");
    assertEquals(List.of(), vouched.entries(), "nothing you do not know");
    assertTrue(otherView.entries().size() == 2, otherView::toString);
  }
}
