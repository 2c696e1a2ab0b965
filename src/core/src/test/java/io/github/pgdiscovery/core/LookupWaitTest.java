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
import java.util.concurrent.atomic.AtomicReference;
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
    AtomicReference<String> completedOn = new AtomicReference<>();

    CompletableFuture<List<io.github.pgdiscovery.core.protocol.Announcement>> lookup =
        engine.contactPoints(Participants.SERVICE, Duration.ofSeconds(3));
    // Seconds ahead: still waiting when the observer below is attached, however loaded the machine,
    // so it runs on the thread that completes the lookup, not on this one.
    lookup.whenComplete((ok, error) -> completedOn.set(Thread.currentThread().getName()));

    ExecutionException failed =
        assertThrows(ExecutionException.class, () -> lookup.get(10, TimeUnit.SECONDS));
    assertInstanceOf(NotReadyException.class, failed.getCause());
    assertEquals("pg-discovery-lookup-timer", completedOn.get());
  }
}
