package io.github.pgdiscovery.core;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/** Discovery engines on one test channel, all stopped by {@link #close()}. */
public final class Participants implements AutoCloseable {

  public static final String SERVICE = "test-service";

  private final TestDatabase db;
  private final String url;
  private final String channel;
  private final List<DiscoveryEngine> started = new ArrayList<>();

  public Participants(TestDatabase db) {
    this(db, db.jdbcUrl(), db.newChannelName());
  }

  /**
   * Participants that connect to {@code url} (e.g. through a proxy) and talk on {@code channel}.
   */
  public Participants(TestDatabase db, String url, String channel) {
    this.db = db;
    this.url = url;
    this.channel = channel;
  }

  public String channel() {
    return channel;
  }

  /**
   * Settings for this channel: heartbeat and expiry long enough that only probes and goodbyes
   * explain changes.
   */
  public DiscoverySettings.Builder settings() {
    return DiscoverySettings.builder(url)
        .user(db.user())
        .password(db.password())
        .channel(channel)
        .timings(Duration.ofSeconds(60), Duration.ofSeconds(180));
  }

  public DiscoveryEngine start(int port) {
    return start(port, settings -> settings);
  }

  public DiscoveryEngine start(int port, UnaryOperator<DiscoverySettings.Builder> adjust) {
    DiscoveryEngine engine =
        new DiscoveryEngine(adjust.apply(settings()).build(), announcement(port));
    started.add(engine);
    engine.start();
    return engine;
  }

  public static Announcement announcement(int port) {
    return new Announcement(
        SERVICE,
        "127.0.0.1",
        port,
        "akka://test@127.0.0.1:" + (port + 1000),
        port,
        UUID.randomUUID().toString());
  }

  /**
   * Waits until {@code engine}'s lookup of {@link #SERVICE} answers exactly the management ports
   * expected.
   */
  public static void awaitPorts(DiscoveryEngine engine, Set<Integer> expected) {
    Poll.until(
        Duration.ofSeconds(30),
        engine.self().endpoint() + " sees exactly " + new TreeSet<>(expected),
        () -> ports(engine).equals(expected),
        () -> ports(engine) + " " + engine.status());
  }

  /** The ports of {@code engine}'s lookup of {@link #SERVICE}; empty while it is not ready. */
  public static Set<Integer> ports(DiscoveryEngine engine) {
    return ports(engine, SERVICE);
  }

  /** The ports of {@code engine}'s lookup of {@code service}; empty while it is not ready. */
  public static Set<Integer> ports(DiscoveryEngine engine, String service) {
    try {
      return engine.contactPoints(service, Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS).stream()
          .map(Announcement::port)
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (Exception e) {
      return Set.of();
    }
  }

  @Override
  public void close() {
    started.forEach(DiscoveryEngine::close);
  }
}
