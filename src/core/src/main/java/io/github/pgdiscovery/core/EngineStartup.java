package io.github.pgdiscovery.core;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.function.Supplier;

/**
 * How an adapter brings up the engine of one actor system, the same for Akka and Pekko: everything
 * that stops the engine again is registered first, the engine starts last, and a step that fails
 * leaves no engine announcing for an actor system that cannot use it, or that may already be gone.
 * A failed start is remembered per actor system, for the operator route and the readiness check,
 * which must report it without starting discovery themselves.
 */
public final class EngineStartup {

  /** Weak keys: a terminated actor system's record goes with it. */
  private static final Map<Object, Throwable> FAILURES =
      Collections.synchronizedMap(new WeakHashMap<>());

  /** A registration step that may fail, such as adding a shutdown task or creating an actor. */
  @FunctionalInterface
  public interface Step {
    void run();
  }

  private EngineStartup() {}

  /**
   * Runs {@code registrations}, then starts {@code engine}. If anything fails, the engine is shut
   * down (it may not have started), {@code undo} runs, and the failure is rethrown.
   */
  public static void start(DiscoveryEngine engine, Step registrations, Runnable undo) {
    try {
      registrations.run();
      engine.start();
    } catch (RuntimeException | Error e) {
      // Nothing else stops it once the adapter's constructor has failed; registered tasks find it
      // stopped.
      engine.shutdown();
      undo.run();
      throw e;
    }
  }

  /**
   * Creates the adapter's extension for {@code system}, remembering the failure if creation fails.
   */
  public static <T> T recordingFailure(Object system, Supplier<T> create) {
    try {
      return create.get();
    } catch (RuntimeException | Error e) {
      FAILURES.put(system, e);
      throw e;
    }
  }

  /** Why discovery could not start for {@code system}, if it could not. */
  public static Optional<Throwable> failure(Object system) {
    return Optional.ofNullable(FAILURES.get(system));
  }
}
