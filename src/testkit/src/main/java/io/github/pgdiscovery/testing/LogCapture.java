package io.github.pgdiscovery.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/**
 * Records what one logger logs while it is open, to count warnings per outage and check rate
 * limits.
 */
public final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final Queue<ILoggingEvent> recorded = new ConcurrentLinkedQueue<>();
  private final AppenderBase<ILoggingEvent> appender =
      new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
          recorded.add(event);
        }
      };

  private LogCapture(String loggerName) {
    logger = (Logger) LoggerFactory.getLogger(loggerName);
    appender.start();
    logger.addAppender(appender);
  }

  public static LogCapture of(Class<?> source) {
    return new LogCapture(source.getName());
  }

  /**
   * By name, for a logger whose class is not ours to name (Akka logs under the class of the actor
   * that logs).
   */
  public static LogCapture of(String loggerName) {
    return new LogCapture(loggerName);
  }

  /** Every event recorded so far, in order, with its throwable. */
  public List<ILoggingEvent> all() {
    return List.copyOf(recorded);
  }

  /** Events at {@code level} logged by threads whose name contains {@code threadPart}. */
  public List<ILoggingEvent> events(Level level, String threadPart) {
    return recorded.stream()
        .filter(event -> event.getLevel() == level && event.getThreadName().contains(threadPart))
        .toList();
  }

  public long count(Level level, String threadPart, String messagePart) {
    return events(level, threadPart).stream()
        .filter(event -> event.getFormattedMessage().contains(messagePart))
        .count();
  }

  /**
   * Events at {@code level} containing {@code messagePart} whose MDC maps {@code key} to {@code
   * value}; Akka's SLF4J logger puts the address of the actor system that logged under {@code
   * akkaAddress}.
   */
  public long countWithMdc(Level level, String key, String value, String messagePart) {
    return recorded.stream()
        .filter(
            event -> event.getLevel() == level && value.equals(event.getMDCPropertyMap().get(key)))
        .filter(event -> event.getFormattedMessage().contains(messagePart))
        .count();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
