package io.github.pgdiscovery.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The catch-up rule on its own: what it asks the protocol to do, and when. */
final class CatchUpTest {

  private static final long SECOND = 1_000_000_000L;
  private static final long HEARTBEAT = 5 * SECOND;
  private static final long TURN = 3 * SECOND;

  /** The steps taken over ten minutes of ticks every 100 ms, with their attempts. */
  private static List<String> run(CatchUp catchUp, boolean listenedAllAlong, long start) {
    List<String> steps = new ArrayList<>();
    for (long t = start; t < start + 600 * SECOND; t += SECOND / 10) {
      CatchUp.Step step =
          catchUp.tick(t, true, HEARTBEAT, () -> listenedAllAlong, () -> true, () -> TURN);
      if (step == CatchUp.Step.PROBE) {
        steps.add("probe " + catchUp.attempt() + " at " + (t - start) / SECOND);
      } else if (step == CatchUp.Step.ASK_EVERYBODY) {
        steps.add("ask everybody at " + (t - start) / SECOND);
      }
    }
    return steps;
  }

  @Test
  void aNodeThatListenedAllAlongWaitsTwoHeartbeatsAndItsTurnThenAsksEverybodyOnce() {
    CatchUp catchUp = new CatchUp();
    catchUp.memberUnheard();

    assertEquals(List.of("ask everybody at 13"), run(catchUp, true, -7 * SECOND));
  }

  @Test
  void aNodeBackOnlyLatelyAsksTheRespondersThreeTimesThenEverybodyInItsTurn() {
    CatchUp catchUp = new CatchUp();
    catchUp.memberUnheard();

    assertEquals(
        List.of("probe 0 at 10", "probe 1 at 20", "probe 2 at 30", "ask everybody at 43"),
        run(catchUp, false, 0));
  }

  @Test
  void aNodeThatHearsAnotherAskEverybodyStandsDown() {
    CatchUp catchUp = new CatchUp();
    catchUp.memberUnheard();
    catchUp.tick(0, true, HEARTBEAT, () -> true, () -> true, () -> TURN);

    catchUp.othersAskedEverybody();

    assertFalse(catchUp.active());
    assertEquals(List.of(), run(catchUp, true, SECOND));
  }

  @Test
  void catchingUpEndsAsSoonAsTheMemberIsHeld() {
    CatchUp catchUp = new CatchUp();
    catchUp.memberUnheard();
    catchUp.tick(0, true, HEARTBEAT, () -> false, () -> true, () -> TURN);

    CatchUp.Step step =
        catchUp.tick(10 * SECOND, true, HEARTBEAT, () -> false, () -> false, () -> TURN);

    assertEquals(CatchUp.Step.NOTHING, step);
    assertFalse(catchUp.active());
  }

  @Test
  void itWaitsWhileTheNodeAnswersNoLookupsAndWantsATickAtOnceWhenArmed() {
    CatchUp catchUp = new CatchUp();
    catchUp.memberUnheard();
    assertEquals(true, catchUp.armed());
    catchUp.tick(0, false, HEARTBEAT, () -> false, () -> true, () -> TURN);

    assertEquals(
        CatchUp.Step.NOTHING,
        catchUp.tick(60 * SECOND, false, HEARTBEAT, () -> false, () -> true, () -> TURN));
    assertEquals(Long.MAX_VALUE, catchUp.nextDeadline(Long.MAX_VALUE, false));
    assertEquals(10 * SECOND, catchUp.nextDeadline(Long.MAX_VALUE, true));
  }
}
