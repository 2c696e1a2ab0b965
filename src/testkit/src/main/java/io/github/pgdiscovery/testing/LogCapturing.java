package io.github.pgdiscovery.testing;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Log capturing for JUnit 5, registered for every test by autodetection (META-INF/services): a
 * passing test prints nothing; a failing one prints what was logged since the test before it ended,
 * its class's set-up included, so the failure comes with its own story and nobody else's.
 * Class-level failures (set-up, tear-down) print theirs too. A skipped test (an assumption that did
 * not hold, such as PgBouncer not being installed) is no failure: it prints only its reason, in one
 * line, once per reason and run, as several tests are skipped for the same one.
 */
public final class LogCapturing
    implements BeforeAllCallback, AfterTestExecutionCallback, AfterAllCallback {

  /** The reasons of skipped tests printed so far in this JVM. */
  private static final Set<String> SKIP_REASONS_PRINTED = ConcurrentHashMap.newKeySet();

  static {
    // pgjdbc logs through java.util.logging, whose console handler would print past the capture.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    CapturedLog.drain();
  }

  @Override
  public void afterTestExecution(ExtensionContext context) {
    report(context, context.getExecutionException());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    report(context, context.getExecutionException());
  }

  private static void report(ExtensionContext context, Optional<Throwable> failure) {
    List<String> lines = CapturedLog.drain();
    if (failure.isEmpty()) {
      return;
    }
    PrintStream out = System.out;
    if (failure.get() instanceof TestAbortedException skipped) {
      if (SKIP_REASONS_PRINTED.add(String.valueOf(skipped.getMessage()))) {
        out.println(
            "---- skipped "
                + context.getDisplayName()
                + " in "
                + context.getRequiredTestClass().getName()
                + " (and any other test for the same reason): "
                + skipped.getMessage());
      }
      return;
    }
    synchronized (out) {
      out.println(
          "---- log of "
              + context.getDisplayName()
              + " in "
              + context.getRequiredTestClass().getName()
              + " (failed: "
              + failure.get()
              + ") ----");
      lines.forEach(out::print);
      out.println("---- end of log of " + context.getDisplayName() + " ----");
    }
  }
}
