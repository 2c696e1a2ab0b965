package io.github.pgdiscovery.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A logback appender that keeps what the tests log in memory instead of printing it, for {@link
 * LogCapturing} to print when a test fails and to drop when it passes. Keeps the last {@value
 * #MAX_LINES} events; configured in logback-test.xml with an encoder for the layout.
 */
public final class CapturedLog extends AppenderBase<ILoggingEvent> {

  static final int MAX_LINES = 20_000;

  private static final Deque<String> LINES = new ArrayDeque<>();
  private static long dropped;

  private Encoder<ILoggingEvent> encoder;

  public void setEncoder(Encoder<ILoggingEvent> encoder) {
    this.encoder = encoder;
  }

  @Override
  public void start() {
    if (encoder == null) {
      addError("CapturedLog needs an encoder");
      return;
    }
    encoder.start();
    super.start();
  }

  @Override
  protected void append(ILoggingEvent event) {
    String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
    synchronized (LINES) {
      LINES.addLast(line);
      if (LINES.size() > MAX_LINES) {
        LINES.removeFirst();
        dropped++;
      }
    }
  }

  /**
   * What was logged since the last call, oldest first, preceded by a note if older lines were
   * dropped.
   */
  static List<String> drain() {
    synchronized (LINES) {
      List<String> lines = new ArrayList<>(LINES.size() + 1);
      if (dropped > 0) {
        lines.add(
            "("
                + dropped
                + " earlier log lines dropped; the full log is in target/test-logs/tests.log)\n");
      }
      lines.addAll(LINES);
      LINES.clear();
      dropped = 0;
      return lines;
    }
  }
}
