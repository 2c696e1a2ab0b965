package io.github.pgdiscovery.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pgdiscovery.core.DiscoveryEngine;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session of its own on a benchmark's channel, logging every ten seconds what was said there by
 * message type, what the participants sent in all (reply channels included) and how many are ready:
 * where a slow run spends its notifications.
 */
final class ChannelMonitor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ChannelMonitor.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long PERIOD_NANOS = 10_000_000_000L;

  private final Thread thread;
  private volatile boolean running = true;

  ChannelMonitor(BenchDatabase db, String channel, Supplier<List<DiscoveryEngine>> engines) {
    thread = new Thread(() -> watch(db, channel, engines), "channel-monitor");
    thread.setDaemon(true);
    thread.start();
  }

  private void watch(BenchDatabase db, String channel, Supplier<List<DiscoveryEngine>> engines) {
    try (Connection connection = db.connect()) {
      try (Statement statement = connection.createStatement()) {
        statement.execute("LISTEN \"" + channel + "\"");
      }
      Map<String, Long> byType = new TreeMap<>();
      long sentBefore = 0;
      long since = System.nanoTime();
      while (running) {
        PGNotification[] heard = connection.unwrap(PGConnection.class).getNotifications(500);
        if (heard != null) {
          for (PGNotification notification : heard) {
            byType.merge(type(notification.getParameter()), 1L, Long::sum);
          }
        }
        if (System.nanoTime() - since >= PERIOD_NANOS) {
          List<DiscoveryEngine> snapshot = engines.get();
          long sent = snapshot.stream().mapToLong(engine -> engine.status().sent()).sum();
          long ready = snapshot.stream().filter(DiscoveryEngine::isReady).count();
          Map<String, Long> kinds = new TreeMap<>();
          for (DiscoveryEngine engine : snapshot) {
            engine
                .status()
                .protocol()
                .sentByType()
                .forEach((kind, count) -> kinds.merge(kind, count, Long::sum));
          }
          log.info(
              "channel {}: {} on the channel in {} s, {} sent in all, {} of {} ready; sent since start {}",
              channel,
              byType,
              (System.nanoTime() - since) / 1_000_000_000L,
              sent - sentBefore,
              ready,
              snapshot.size(),
              kinds);
          byType.clear();
          sentBefore = sent;
          since = System.nanoTime();
        }
      }
    } catch (Exception e) {
      if (running) {
        log.warn("channel monitor stopped", e);
      }
    }
  }

  private static String type(String payload) {
    try {
      JsonNode node = JSON.readTree(payload);
      String type = node.path("type").asText("?");
      return node.path("all").asBoolean(false) ? type + "-all" : type;
    } catch (Exception e) {
      return "unreadable";
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(5_000);
  }
}
