package io.github.pgdiscovery.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The database model on its own: the semantics of LISTEN/NOTIFY that the scenarios rely on. */
final class SimulatedPostgresTest {

  private final EventLoop loop = new EventLoop();

  private SimulatedPostgres db(SimulatedPostgres.Wakeups wakeups) {
    return new SimulatedPostgres(loop, new SplittableRandom(1), wakeups, 100_000, 100_000);
  }

  @Test
  void aListenerGetsWhatCommitsAfterItsListenInCommitOrder() {
    SimulatedPostgres db = db(SimulatedPostgres.Wakeups.EVERY_LISTENER);
    List<String> got = new ArrayList<>();
    SimulatedPostgres.Backend sender = db.connect("sender", p -> {}, () -> {});
    SimulatedPostgres.Backend listener = db.connect("listener", got::addAll, () -> {});
    db.notify(sender, "ch", "before");
    db.listen(listener, "ch");
    db.notify(sender, "ch", "one");
    db.notify(sender, "other", "not for it");
    db.notify(sender, "ch", "two");
    loop.runUntil(1_000_000_000);
    assertEquals(List.of("one", "two"), got);
    assertEquals(4, db.counters().notifications);
  }

  @Test
  void beforePostgres19EveryCommitWakesEveryListenerWhateverTheChannel() {
    SimulatedPostgres db = db(SimulatedPostgres.Wakeups.EVERY_LISTENER);
    SimulatedPostgres.Backend sender = db.connect("sender", p -> {}, () -> {});
    for (int i = 0; i < 5; i++) {
      db.listen(db.connect("l" + i, p -> {}, () -> {}), "reply_" + i);
    }
    for (int i = 0; i < 3; i++) {
      db.notify(sender, "reply_0", "x");
      loop.runUntil(loop.now() + 1_000_000); // apart by more than the wake latency: no coalescing
    }
    assertEquals(15, db.counters().wakeUps);
    assertEquals(3, db.counters().delivered);
  }

  @Test
  void postgres19WakesOnlyTheChannelsListeners() {
    SimulatedPostgres db = db(SimulatedPostgres.Wakeups.CHANNEL_LISTENERS);
    SimulatedPostgres.Backend sender = db.connect("sender", p -> {}, () -> {});
    for (int i = 0; i < 5; i++) {
      db.listen(db.connect("l" + i, p -> {}, () -> {}), "reply_" + i);
    }
    for (int i = 0; i < 3; i++) {
      db.notify(sender, "reply_0", "x");
      loop.runUntil(loop.now() + 1_000_000);
    }
    assertEquals(3, db.counters().wakeUps);
  }

  @Test
  void signalsToABackendNotYetReadingCoalesceIntoOneRead() {
    SimulatedPostgres db = db(SimulatedPostgres.Wakeups.EVERY_LISTENER);
    List<List<String>> reads = new ArrayList<>();
    SimulatedPostgres.Backend sender = db.connect("sender", p -> {}, () -> {});
    db.listen(db.connect("l", reads::add, () -> {}), "ch");
    db.notify(sender, "ch", "a");
    db.notify(sender, "ch", "b");
    loop.runUntil(1_000_000_000);
    assertEquals(List.of(List.of("a", "b")), reads);
    assertEquals(1, db.counters().wakeUps);
  }

  @Test
  void aDroppedConnectionLosesWhatItHadNotReadAndARestartDropsEveryConnection() {
    SimulatedPostgres db = db(SimulatedPostgres.Wakeups.EVERY_LISTENER);
    List<String> got = new ArrayList<>();
    List<String> terminated = new ArrayList<>();
    SimulatedPostgres.Backend sender =
        db.connect("sender", p -> {}, () -> terminated.add("sender"));
    SimulatedPostgres.Backend listener =
        db.connect("listener", got::addAll, () -> terminated.add("listener"));
    db.listen(listener, "ch");
    db.notify(sender, "ch", "lost");
    db.restart(1_000_000_000);
    loop.runUntil(500_000_000);
    assertEquals(List.of(), got);
    assertEquals(List.of("sender", "listener"), terminated);
    assertEquals(null, db.connect("late", p -> {}, () -> {}), "refuses connections while down");
    loop.runUntil(2_000_000_000);
    SimulatedPostgres.Backend again = db.connect("again", got::addAll, () -> {});
    db.listen(again, "ch");
    db.notify(again, "ch", "after");
    loop.runUntil(3_000_000_000L);
    assertEquals(List.of("after"), got, "the sender, listening, reads its own notification");
  }
}
