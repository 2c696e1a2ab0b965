package io.github.pgdiscovery.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/** Records what one logger logs while it is open, to count warnings per outage and check rate limits. */
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

  private LogCapture(Class<?> source) {
    logger = (Logger) LoggerFactory.getLogger(source);
    appender.start();
    logger.addAppender(appender);
  }

  public static LogCapture of(Class<?> source) {
    return new LogCapture(source);
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

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
