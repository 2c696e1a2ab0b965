package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule of a node's own view on its own: when it asks again, how long it waits, and when it asks
 * everybody. Its own probes come back at once here, so it waits the reply window (300 ms) times the
 * doubling.
 */
final class OwnProbeTest {

  private static final long WINDOW = 300 * MS;
  private static final long FAR = T0 + 3600 * SECOND;

  private final DiscoverySettings.Timing timing = settings(s -> s).timing();
  private final PeerTable peers = keeping(SERVICE);

  private static PeerTable keeping(String service) {
    PeerTable peers = new PeerTable(100, 16);
    peers.keep(service);
    return peers;
  }

  private OwnProbe connected(Announcement self) {
    OwnProbe ownProbe = new OwnProbe(self, timing, peers);
    ownProbe.connected(false);
    return ownProbe;
  }

  /**
   * Ticks every millisecond from {@code start}, hearing each probe back as it is sent, until the
   * node asks everybody: each probe of its own service as "attempt at +ms", then "everybody at
   * +ms".
   */
  private static List<String> untilItAsksEverybody(OwnProbe ownProbe, long start) {
    List<String> steps = new ArrayList<>();
    for (long t = start; t < start + 60 * SECOND; t += MS) {
      if (ownProbe.tick(t) == OwnProbe.Step.ASK_EVERYBODY) {
        steps.add("everybody at " + (t - start) / MS);
        return steps;
      }
      for (Message.Probe probe : ownProbe.takeProbes(t)) {
        steps.add(probe.attempt() + " at " + (t - start) / MS);
        ownProbe.heardOwn(probe, t, 0);
      }
    }
    return steps;
  }

  @Test
  void onConnectItProbesEveryKeptServiceAndItsOwnStatesTheFirstAttempt() {
    OwnProbe ownProbe = connected(node(8558));
    peers.keep("billing");
    ownProbe.connected(false);

    assertTrue(ownProbe.wantsTickNow());
    List<Message.Probe> probes = ownProbe.takeProbes(T0);

    assertEquals(List.of(SERVICE, "billing"), probes.stream().map(Message.Probe::service).toList());
    assertEquals(0, probes.get(0).attempt());
    assertFalse(ownProbe.wantsTickNow());
  }

  @Test
  void
      withoutARosterTheWaitDoublesPerUnansweredProbeUpToEightTimesThenANodeNotFirstAsksEverybody() {
    Announcement self = node(8558);
    peers.admit(node(8501), T0, 3600 * SECOND);
    OwnProbe ownProbe = connected(self);

    assertEquals(
        List.of("0 at 0", "1 at 300", "2 at 900", "3 at 2100", "everybody at 4500"),
        untilItAsksEverybody(ownProbe, T0),
        "waits of 1, 2, 4 and 8 reply windows; four probes before everybody");
  }

  @Test
  void theFirstByHostAndPortAmongTheNodesItKnowsAsksEverybodyAfterOneUnansweredProbe() {
    peers.admit(node(8502), T0, 3600 * SECOND);
    OwnProbe ownProbe = connected(node(8501));

    assertEquals(List.of("0 at 0", "everybody at 300"), untilItAsksEverybody(ownProbe, T0));
  }

  @Test
  void aNodeThatKnowsNobodyAsksEverybodyAfterTwoUnansweredProbes() {
    OwnProbe ownProbe = connected(node(8558));

    assertEquals(
        List.of("0 at 0", "1 at 300", "everybody at 900"), untilItAsksEverybody(ownProbe, T0));
  }

  @Test
  void whilePartsOfARosterArriveItWaitsSixteenReplyWaitsBeforeAskingAgain() {
    peers.admit(node(8501), T0, 3600 * SECOND);
    OwnProbe ownProbe = connected(node(8558));
    for (Message.Probe probe : ownProbe.takeProbes(T0)) {
      ownProbe.heardOwn(probe, T0, 0);
    }
    assertFalse(ownProbe.rosterHeard("responder", 0, 2, true), "half a roster");

    ownProbe.tick(T0 + 16 * WINDOW - 1);
    assertFalse(ownProbe.wantsTickNow(), "asked again while the roster was arriving");
    ownProbe.tick(T0 + 16 * WINDOW);
    assertTrue(ownProbe.wantsTickNow());
  }

  @Test
  void aWholeRosterOfItsOwnServiceCompletesItsViewAndItAsksNoMore() {
    OwnProbe ownProbe = connected(node(8558));
    for (Message.Probe probe : ownProbe.takeProbes(T0)) {
      ownProbe.heardOwn(probe, T0, 0);
    }

    assertFalse(ownProbe.rosterHeard("responder", 1, 2, true));
    assertFalse(ownProbe.rosterHeard("other", 0, 1, false), "a roster of another service");
    assertFalse(ownProbe.viewComplete(SERVICE, T0 + MS));
    assertTrue(ownProbe.rosterHeard("responder", 0, 2, true));

    assertTrue(ownProbe.viewComplete(SERVICE, T0 + MS), "without waiting for the window");
    assertEquals(List.of(), untilItAsksEverybody(ownProbe, T0 + MS));
  }

  @Test
  void itsNextDeadlineIsTheMomentItAsksAgainAndItActsThenNotBefore() {
    peers.admit(node(8501), T0, 3600 * SECOND);
    OwnProbe ownProbe = connected(node(8558));
    for (Message.Probe probe : ownProbe.takeProbes(T0)) {
      ownProbe.heardOwn(probe, T0 + 10 * MS, 0);
    }
    // The probe took 10 ms to come back: it waits the window and twice that after the echo.
    long deadline = ownProbe.nextDeadline(FAR, T0 + 10 * MS, false, FAR);

    assertEquals(T0 + 10 * MS + WINDOW + 20 * MS, deadline);
    ownProbe.tick(deadline - 1);
    assertFalse(ownProbe.wantsTickNow());
    ownProbe.tick(deadline);
    assertTrue(ownProbe.wantsTickNow());
  }

  @Test
  void beforeItsOwnProbeComesBackItsNextDeadlineIsTheSelfCheck() {
    OwnProbe ownProbe = connected(node(8558));
    ownProbe.takeProbes(T0);
    long selfCheckAt = T0 + 5 * SECOND;

    assertEquals(selfCheckAt, ownProbe.nextDeadline(FAR, T0, false, selfCheckAt));
    assertFalse(ownProbe.selfCheckFailed(selfCheckAt - 1, T0, 5 * SECOND));
    assertTrue(ownProbe.selfCheckFailed(selfCheckAt, T0, 5 * SECOND));
    assertFalse(ownProbe.selfCheckFailed(selfCheckAt + SECOND, T0, 5 * SECOND), "once only");
  }

  @Test
  void aMemberReadyByItsOwnAnnouncementNeverAsksForATickAtAMomentAlreadyPast() {
    OwnProbe member = new OwnProbe(node(8558), timing, peers);
    member.connected(true);
    member.heardOwnAnnouncement(T0);

    assertFalse(member.waitsForRosters());
    assertEquals(T0 + WINDOW, member.nextDeadline(FAR, T0, false, FAR));
    assertTrue(member.viewComplete(SERVICE, T0 + WINDOW));
    // Held back by something else (a clash, say): that has a timer of its own; asking for a tick
    // now would spin the engine's loop.
    assertEquals(FAR, member.nextDeadline(FAR, T0 + WINDOW + MS, false, FAR));
    assertEquals(OwnProbe.Step.NOTHING, member.tick(T0 + 60 * SECOND));
  }

  @Test
  void aProbeOfEverybodyHeardAfterListeningIsWaitedOutOneReplyWaitThenTheViewIsComplete() {
    OwnProbe ownProbe = connected(node(8558));
    for (Message.Probe probe : ownProbe.takeProbes(T0)) {
      ownProbe.heardOwn(probe, T0, 0);
    }

    ownProbe.othersAskEverybody(T0 + 100 * MS, 7);

    assertEquals(7, ownProbe.everybodyHeardAfter());
    assertEquals(T0 + 100 * MS + WINDOW, ownProbe.nextDeadline(FAR, T0 + 100 * MS, false, FAR));
    assertFalse(ownProbe.viewComplete(SERVICE, T0 + 100 * MS + WINDOW - 1));
    assertTrue(ownProbe.viewComplete(SERVICE, T0 + 100 * MS + WINDOW));
    assertEquals(OwnProbe.Step.NOTHING, ownProbe.tick(T0 + 60 * SECOND), "asks nobody itself");
  }
}
