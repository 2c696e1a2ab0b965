package io.github.pgdiscovery.akka;

import akka.actor.ActorSystem;
import akka.cluster.Cluster;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.discovery.Discovery;
import akka.discovery.ServiceDiscovery;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Ports;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * Real actor systems in this JVM, each with Artery on 127.0.0.1, Akka Management and Cluster
 * Bootstrap using the {@code postgres} discovery method on one test channel. {@link #close()}
 * terminates them all.
 *
 * <p>{@link #start()} may be called from several threads at once. {@link #close()} terminates the
 * nodes whose actor systems exist when it is called, so call it once the starts have returned.
 */
public final class AkkaNodes implements AutoCloseable {

  public static final String SYSTEM_NAME = "PgDiscoveryTest";

  /** The service name Bootstrap derives from the system name. */
  public static final String SERVICE = "pgdiscoverytest";

  private final TestDatabase db;
  private final String channel;
  private final int requiredContactPoints;
  private final List<ActorSystem> systems = new CopyOnWriteArrayList<>();

  public AkkaNodes(TestDatabase db, int requiredContactPoints) {
    this.db = db;
    this.channel = db.newChannelName();
    this.requiredContactPoints = requiredContactPoints;
  }

  /** The channel these nodes' discovery talks on. */
  public String channel() {
    return channel;
  }

  /** The configuration of one node; {@code overrides} (HOCON) is applied on top. */
  public Config config(int remotingPort, int managementPort, String overrides) {
    Config node =
        ConfigFactory.parseString(
            String.join(
                "\n",
                "akka.actor.provider = cluster",
                "akka.loggers = [\"akka.event.slf4j.Slf4jLogger\"]",
                "akka.logging-filter = \"akka.event.slf4j.Slf4jLoggingFilter\"",
                "akka.loglevel = INFO",
                "akka.remote.artery.canonical.hostname = 127.0.0.1",
                "akka.remote.artery.canonical.port = " + remotingPort,
                "akka.management.http.hostname = 127.0.0.1",
                "akka.management.http.port = " + managementPort,
                "akka.management.cluster.bootstrap.contact-point-discovery.discovery-method = postgres",
                "akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr = "
                    + requiredContactPoints,
                "akka.management.cluster.bootstrap.contact-point-discovery.stable-margin = 1s",
                "akka.management.cluster.bootstrap.contact-point-discovery.interval = 200ms",
                // All nodes share one host: without this Bootstrap keeps only the contact point on
                // its own port.
                "akka.management.cluster.bootstrap.contact-point.filter-on-fallback-port = false",
                "akka.management.cluster.bootstrap.contact-point.probe-interval = 200ms",
                // Expiry far away: whatever leaves a lookup in these tests left through goodbye or
                // cluster removal.
                "akka.discovery.postgres.heartbeat-interval = 60s",
                "akka.discovery.postgres.expire-after = 180s",
                "akka.coordinated-shutdown.exit-jvm = off",
                "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                "akka.cluster.shutdown-after-unsuccessful-join-seed-nodes = off",
                "akka.cluster.jmx.multi-mbeans-in-same-jvm = on",
                overrides));
    return node.withFallback(databaseConfig()).withFallback(ConfigFactory.load()).resolve();
  }

  public Config databaseConfig() {
    Config config =
        ConfigFactory.empty()
            .withValue("akka.discovery.postgres.url", ConfigValueFactory.fromAnyRef(db.jdbcUrl()))
            .withValue("akka.discovery.postgres.channel", ConfigValueFactory.fromAnyRef(channel));
    if (db.user() != null) {
      config =
          config.withValue(
              "akka.discovery.postgres.user", ConfigValueFactory.fromAnyRef(db.user()));
    }
    if (db.password() != null) {
      config =
          config.withValue(
              "akka.discovery.postgres.password", ConfigValueFactory.fromAnyRef(db.password()));
    }
    return config;
  }

  /**
   * Starts a node on free ports with Akka Management and Cluster Bootstrap, the way a user does.
   */
  public ActorSystem start() {
    return start("");
  }

  public ActorSystem start(String overrides) {
    ActorSystem system =
        ActorSystem.create(SYSTEM_NAME, config(Ports.free(), Ports.free(), overrides));
    systems.add(system);
    AkkaManagement.get(system).start();
    ClusterBootstrap.get(system).start();
    return system;
  }

  /** The nodes whose actor systems exist so far, in the order they came into being; a snapshot. */
  public List<ActorSystem> systems() {
    return List.copyOf(systems);
  }

  /**
   * Management ports of the contact points {@code system}'s discovery returns for the cluster's
   * service.
   */
  public static Set<Integer> lookupPorts(ActorSystem system) {
    ServiceDiscovery discovery = Discovery.get(system).loadServiceDiscovery("postgres");
    try {
      ServiceDiscovery.Resolved resolved =
          discovery
              .lookup(SERVICE, Duration.ofSeconds(5))
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      return resolved.getAddresses().stream()
          .map(target -> (Integer) target.getPort().orElseThrow())
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (Exception e) {
      return Set.of();
    }
  }

  public static int managementPort(ActorSystem system) {
    return system.settings().config().getInt("akka.management.http.port");
  }

  /** Addresses of the members {@code system} sees as Up. */
  public static Set<String> upMembers(ActorSystem system) {
    return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
        .filter(member -> member.status() == MemberStatus.up())
        .map(Member::address)
        .map(Object::toString)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** Waits until each of {@code systems} sees exactly all of them Up: one cluster of them. */
  public static void awaitOneCluster(List<ActorSystem> systems, Duration deadline) {
    Set<String> all =
        systems.stream().map(AkkaNodes::address).collect(Collectors.toCollection(TreeSet::new));
    for (ActorSystem system : systems) {
      Poll.until(
          deadline,
          address(system) + " sees all " + systems.size() + " Up",
          () -> upMembers(system).equals(all),
          () -> upMembers(system));
    }
  }

  public static String address(ActorSystem system) {
    return Cluster.get(system).selfAddress().toString();
  }

  @Override
  public void close() {
    for (ActorSystem system : systems) {
      system.terminate();
    }
    for (ActorSystem system : systems) {
      try {
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        // Best effort: a system that did not stop in time must not hide the test's own result.
      }
    }
  }
}
