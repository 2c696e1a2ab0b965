package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A lookup that has to wait holds no thread of the JDK's or the caller's while it does. */
final class LookupWaitTest {

  @Test
  void aWaitingLookupLooksAgainOnTheLibrarysOwnTimerThreadAndFailsAtItsTimeout() throws Exception {
    // Never started: lookups wait for readiness that does not come.
    DiscoveryEngine engine =
        new DiscoveryEngine(
            DiscoverySettings.builder("jdbc:postgresql://127.0.0.1:1/none").build(),
            Participants.announcement(9999));
    CompletableFuture<List<io.github.pgdiscovery.core.protocol.Announcement>> lookup;
    CompletableFuture<String> completedOn;
    boolean attachedWhileWaiting;
    int tries = 0;
    do {
      lookup = engine.contactPoints(Participants.SERVICE, Duration.ofSeconds(3));
      // Seconds ahead, so the observer is attached while the lookup still waits and runs on the
      // thread that completes it; should this thread stall that long (a loaded machine), ask again.
      attachedWhileWaiting = !lookup.isDone();
      completedOn = lookup.handle((ok, error) -> Thread.currentThread().getName());
    } while (!attachedWhileWaiting && ++tries < 5);
    CompletableFuture<List<io.github.pgdiscovery.core.protocol.Announcement>> waited = lookup;

    // The observer's future is waited on, not the lookup: a thread waiting in the lookup's get()
    // helps run its observers once it completes, and would report itself.
    assertEquals("pg-discovery-lookup-timer", completedOn.get(10, TimeUnit.SECONDS));
    ExecutionException failed =
        assertThrows(ExecutionException.class, () -> waited.get(1, TimeUnit.SECONDS));
    assertInstanceOf(NotReadyException.class, failed.getCause());
  }
}
