package io.github.pgdiscovery.pekko;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
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
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.discovery.Discovery;
import org.apache.pekko.discovery.ServiceDiscovery;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * Real Pekko actor systems in this JVM, each with Artery on 127.0.0.1, Pekko Management and Cluster
 * Bootstrap using the {@code postgres} discovery method on one test channel. {@link #close()}
 * terminates them all.
 */
public final class PekkoNodes implements AutoCloseable {

  public static final String SYSTEM_NAME = "PgDiscoveryPekkoTest";

  /** The service name Bootstrap derives from the system name. */
  public static final String SERVICE = "pgdiscoverypekkotest";

  private final TestDatabase db;
  private final String channel;
  private final int requiredContactPoints;
  private final List<ActorSystem> systems = new CopyOnWriteArrayList<>();

  public PekkoNodes(TestDatabase db, int requiredContactPoints) {
    this.db = db;
    this.channel = db.newChannelName();
    this.requiredContactPoints = requiredContactPoints;
  }

  public String channel() {
    return channel;
  }

  /** The configuration of one clustered node; {@code overrides} (HOCON) is applied on top. */
  public Config config(int remotingPort, int managementPort, String overrides) {
    Config node =
        ConfigFactory.parseString(
            String.join(
                "\n",
                "pekko.actor.provider = cluster",
                "pekko.remote.artery.canonical.hostname = 127.0.0.1",
                "pekko.remote.artery.canonical.port = " + remotingPort,
                "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method = postgres",
                "pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr = "
                    + requiredContactPoints,
                "pekko.management.cluster.bootstrap.contact-point-discovery.stable-margin = 1s",
                "pekko.management.cluster.bootstrap.contact-point-discovery.interval = 200ms",
                // All nodes share one host: without this Bootstrap keeps only the contact point on
                // its own port.
                "pekko.management.cluster.bootstrap.contact-point.filter-on-fallback-port = false",
                "pekko.management.cluster.bootstrap.contact-point.probe-interval = 200ms",
                // Expiry far away: whatever leaves a lookup in these tests left through goodbye or
                // cluster removal.
                "pekko.discovery.postgres.heartbeat-interval = 60s",
                "pekko.discovery.postgres.expire-after = 180s",
                "pekko.coordinated-shutdown.exit-jvm = off",
                "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                "pekko.cluster.shutdown-after-unsuccessful-join-seed-nodes = off",
                "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
                overrides));
    return node.withFallback(standalone(db, db.jdbcUrl(), channel, managementPort)).resolve();
  }

  /**
   * A node that is not clustered, discovery on {@code url} and {@code channel}, Pekko Management on
   * 127.0.0.1:{@code managementPort}; the user and password of {@code db} when it has them (null:
   * none).
   */
  public static Config standalone(TestDatabase db, String url, String channel, int managementPort) {
    Config config =
        ConfigFactory.parseString(
                String.join(
                    "\n",
                    "pekko.discovery.postgres.reconnect-max-backoff = 500ms",
                    "pekko.management.http.hostname = 127.0.0.1",
                    "pekko.loglevel = INFO",
                    "pekko.loggers = [\"org.apache.pekko.event.slf4j.Slf4jLogger\"]",
                    "pekko.logging-filter = \"org.apache.pekko.event.slf4j.Slf4jLoggingFilter\""))
            .withValue("pekko.discovery.postgres.url", ConfigValueFactory.fromAnyRef(url))
            .withValue("pekko.discovery.postgres.channel", ConfigValueFactory.fromAnyRef(channel))
            .withValue("pekko.management.http.port", ConfigValueFactory.fromAnyRef(managementPort));
    if (db != null && db.user() != null) {
      config =
          config.withValue(
              "pekko.discovery.postgres.user", ConfigValueFactory.fromAnyRef(db.user()));
    }
    if (db != null && db.password() != null) {
      config =
          config.withValue(
              "pekko.discovery.postgres.password", ConfigValueFactory.fromAnyRef(db.password()));
    }
    return config.withFallback(ConfigFactory.load());
  }

  /**
   * Starts a node on free ports with Pekko Management and Cluster Bootstrap, the way a user does.
   */
  public ActorSystem start() {
    return start("");
  }

  public ActorSystem start(String overrides) {
    ActorSystem system =
        ActorSystem.create(SYSTEM_NAME, config(Ports.free(), Ports.free(), overrides));
    systems.add(system);
    PekkoManagement.get(system).start();
    ClusterBootstrap.get(system).start();
    return system;
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
    return system.settings().config().getInt("pekko.management.http.port");
  }

  /** Addresses of the members {@code system} sees as Up. */
  public static Set<String> upMembers(ActorSystem system) {
    return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
        .filter(member -> member.status() == MemberStatus.up())
        .map(Member::address)
        .map(Object::toString)
        .collect(Collectors.toCollection(TreeSet::new));
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
