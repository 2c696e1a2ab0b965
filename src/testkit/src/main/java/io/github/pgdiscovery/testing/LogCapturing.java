package io.github.pgdiscovery.testing;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Log capturing for JUnit 5, registered for every test by autodetection (META-INF/services): a
 * passing test prints nothing; a failing one prints what was logged since the test before it ended,
 * its class's set-up included, so the failure comes with its own story and nobody else's.
 * Class-level failures (set-up, tear-down) print theirs too.
 */
public final class LogCapturing
    implements BeforeAllCallback, AfterTestExecutionCallback, AfterAllCallback {

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
