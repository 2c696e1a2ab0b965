package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule of a node waiting to join that holds watched peers, on its own: it asks again every half
 * watched stay (30 s of 60 here), and without a whole roster asks again with rising attempts, then
 * everybody.
 */
final class WatchedReprobeTest {

  private static final long STAY = 60 * SECOND;
  private static final long REPLY_WAIT = 300 * MS;
  private static final long FAR = T0 + 3600 * SECOND;

  /**
   * Ticks every millisecond from {@code start} for {@code length}, hearing each probe come back at
   * once and no roster: each step as "probe attempt at +ms" or "everybody at +ms".
   */
  private static List<String> unanswered(WatchedReprobe reprobe, long start, long length) {
    List<String> steps = new ArrayList<>();
    for (long t = start; t < start + length; t += MS) {
      switch (reprobe.tick(t, true, REPLY_WAIT)) {
        case PROBE -> {
          steps.add("probe " + reprobe.attempt() + " at " + (t - start) / MS);
          reprobe.echoed(t);
        }
        case ASK_EVERYBODY -> steps.add("everybody at " + (t - start) / MS);
        case NOTHING -> {}
      }
    }
    return steps;
  }

  @Test
  void anEligibleNodeAsksEveryHalfWatchedStayWhileItsProbesAreAnswered() {
    WatchedReprobe reprobe = new WatchedReprobe(STAY);
    reprobe.connected(T0);

    assertEquals(WatchedReprobe.Step.NOTHING, reprobe.tick(T0 + 30 * SECOND - 1, true, REPLY_WAIT));
    assertEquals(WatchedReprobe.Step.PROBE, reprobe.tick(T0 + 30 * SECOND, true, REPLY_WAIT));
    assertEquals(0, reprobe.attempt());
    reprobe.echoed(T0 + 30 * SECOND);
    reprobe.answered();

    assertEquals(WatchedReprobe.Step.NOTHING, reprobe.tick(T0 + 60 * SECOND - 1, true, REPLY_WAIT));
    assertEquals(WatchedReprobe.Step.PROBE, reprobe.tick(T0 + 60 * SECOND, true, REPLY_WAIT));
  }

  @Test
  void withoutAWholeRosterItAsksAgainWithRisingAttemptsWaitingLongerEachTimeThenAsksEverybody() {
    WatchedReprobe reprobe = new WatchedReprobe(STAY);
    reprobe.connected(T0);

    assertEquals(
        List.of(
            "probe 0 at 30000",
            "probe 1 at 30300",
            "probe 2 at 30900",
            "probe 3 at 32100",
            "everybody at 34500",
            "probe 0 at 60000"),
        unanswered(reprobe, T0, 60 * SECOND + MS),
        "waits of 1, 2, 4 and 8 reply waits; then the next round half a stay after the last began");
  }

  @Test
  void itWaitsForItsProbeToComeBackBeforeCountingTheReplyWait() {
    WatchedReprobe reprobe = new WatchedReprobe(STAY);
    reprobe.connected(T0);
    reprobe.tick(T0 + 30 * SECOND, true, REPLY_WAIT);

    assertEquals(
        WatchedReprobe.Step.NOTHING, reprobe.tick(T0 + 40 * SECOND, true, REPLY_WAIT), "no echo");
    assertEquals(FAR, reprobe.nextDeadline(FAR, true, REPLY_WAIT));
    reprobe.echoed(T0 + 40 * SECOND);
    assertEquals(T0 + 40 * SECOND + REPLY_WAIT, reprobe.nextDeadline(FAR, true, REPLY_WAIT));
  }

  @Test
  void aNodeNotEligibleNeverAsksAndWantsNoTick() {
    WatchedReprobe reprobe = new WatchedReprobe(STAY);
    reprobe.connected(T0);

    for (long t = T0; t < T0 + 10 * STAY; t += SECOND) {
      assertEquals(WatchedReprobe.Step.NOTHING, reprobe.tick(t, false, REPLY_WAIT));
    }
    assertEquals(FAR, reprobe.nextDeadline(FAR, false, REPLY_WAIT));
  }

  @Test
  void itsNextDeadlineIsTheMomentItNextActs() {
    WatchedReprobe reprobe = new WatchedReprobe(STAY);
    reprobe.connected(T0);
    List<Long> deadlines = new ArrayList<>();
    List<Long> acted = new ArrayList<>();

    for (long t = T0; t < T0 + 65 * SECOND; t += MS) {
      long deadline = reprobe.nextDeadline(FAR, true, REPLY_WAIT);
      if (deadlines.isEmpty() || deadlines.get(deadlines.size() - 1) != deadline) {
        deadlines.add(deadline);
      }
      WatchedReprobe.Step step = reprobe.tick(t, true, REPLY_WAIT);
      if (step != WatchedReprobe.Step.NOTHING) {
        acted.add(t);
        reprobe.echoed(t);
      }
    }

    assertEquals(deadlines.subList(0, acted.size()), acted);
  }

  @Test
  void aNewConnectionStartsTheScheduleAgain() {
    WatchedReprobe reprobe = new WatchedReprobe(STAY);
    reprobe.connected(T0);
    reprobe.tick(T0 + 30 * SECOND, true, REPLY_WAIT);
    reprobe.echoed(T0 + 30 * SECOND);

    reprobe.connected(T0 + 31 * SECOND);

    assertEquals(T0 + 61 * SECOND, reprobe.nextDeadline(FAR, true, REPLY_WAIT));
    assertEquals(WatchedReprobe.Step.NOTHING, reprobe.tick(T0 + 40 * SECOND, true, REPLY_WAIT));
  }
}
