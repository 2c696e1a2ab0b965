package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.TestCertificates;
import io.github.pgdiscovery.testing.TestCertificates.ServerCertificate;
import io.github.pgdiscovery.testing.TlsPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine against a PostgreSQL that accepts TCP connections only over TLS, with certificates
 * made for the run: TLS is configured entirely through pgjdbc options in the JDBC URL, and
 * LISTEN/NOTIFY works over it.
 */
@Tag(DatabaseTest.TAG)
final class TlsConnectionTest {

  private static final Duration DEADLINE = Duration.ofSeconds(10);
  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(5);
  private static final AtomicInteger CHANNELS = new AtomicInteger();

  @TempDir static Path files;

  private static TestCertificates.Authority authority;
  private static Path trustedCa;
  private static Path wrongCa;
  private static TlsPostgres server;

  private final List<DiscoveryEngine> engines = new ArrayList<>();

  @BeforeAll
  static void startServer() throws IOException {
    authority = TestCertificates.newAuthority("pgdiscovery test CA");
    trustedCa = authority.writeCertificate(files.resolve("ca.pem"));
    wrongCa =
        TestCertificates.newAuthority("pgdiscovery unrelated CA")
            .writeCertificate(files.resolve("wrong-ca.pem"));
    ServerCertificate localhost =
        authority.issueServerCertificate("localhost", List.of("localhost"), List.of("127.0.0.1"));
    server =
        TlsPostgres.start(
            files,
            localhost.writeCertificate(files.resolve("server.crt")),
            localhost.writePrivateKey(files.resolve("server.key")));
  }

  @AfterAll
  static void stopServer() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  @AfterEach
  void stopEngines() {
    engines.forEach(DiscoveryEngine::close);
  }

  @Test
  void engineConnectsWithVerifyFullAndItsConnectionIsEncrypted() throws Exception {
    String channel = newChannel();
    String url = server.jdbcUrl("localhost", verifyFull(trustedCa));
    DiscoveryEngine a = start(url, channel, 9801);
    DiscoveryEngine b = start(url, channel, 9802);

    Poll.until(
        DEADLINE,
        "both engines ready",
        () -> a.isReady() && b.isReady(),
        () -> a.status() + " / " + b.status());

    assertEncrypted(a.backendPid().orElseThrow());
    assertEncrypted(b.backendPid().orElseThrow());
    // The two only know of each other through notifications, which therefore travelled over TLS.
    awaitPorts(a, Set.of(9801, 9802));
    awaitPorts(b, Set.of(9801, 9802));
  }

  @Test
  void wrongCaIsRefusedWithAMessageNamingTheCertificateProblem() {
    DiscoveryEngine engine =
        start(server.jdbcUrl("localhost", verifyFull(wrongCa)), newChannel(), 9811);

    String error = awaitLastError(engine);

    assertFalse(engine.isReady());
    assertNotEquals(EngineStatus.ConnectionState.CONNECTED, engine.status().state());
    assertNotReady(engine);
    String lowerCase = error.toLowerCase(Locale.ROOT);
    assertTrue(lowerCase.contains("ssl") && lowerCase.contains("certificat"), error);
  }

  @Test
  void hostnameMismatchIsRefusedUnderVerifyFull() throws IOException {
    // Signed by the trusted authority, but for another host: only the name check can fail.
    Path directory = Files.createDirectory(files.resolve("elsewhere"));
    ServerCertificate elsewhere =
        authority.issueServerCertificate(
            "db.example.invalid", List.of("db.example.invalid"), List.of());
    try (TlsPostgres other =
        TlsPostgres.start(
            directory,
            elsewhere.writeCertificate(directory.resolve("server.crt")),
            elsewhere.writePrivateKey(directory.resolve("server.key")))) {
      DiscoveryEngine engine =
          start(other.jdbcUrl("localhost", verifyFull(trustedCa)), newChannel(), 9821);

      String error = awaitLastError(engine);
      // Stop retrying before the server goes away, so the last error stays the one about the name.
      engine.close();

      assertFalse(engine.isReady());
      String lowerCase = error.toLowerCase(Locale.ROOT);
      assertTrue(lowerCase.contains("hostname") && lowerCase.contains("localhost"), error);
    }
  }

  @Test
  void serverRefusesConnectionsWithoutTls() {
    // Makes sure the encrypted connections above are not merely what the client asked for.
    SQLException refused =
        assertThrows(
            SQLException.class,
            () -> server.openConnection("localhost", "sslmode=disable").close());

    assertTrue(refused.getMessage().contains("no encryption"), refused.getMessage());
  }

  private DiscoveryEngine start(String url, String channel, int port) {
    DiscoveryEngine engine =
        new DiscoveryEngine(
            DiscoverySettings.builder(url).user(TlsPostgres.USER).channel(channel).build(),
            Participants.announcement(port));
    engines.add(engine);
    engine.start();
    return engine;
  }

  private static String verifyFull(Path rootCertificate) {
    return "sslmode=verify-full&sslrootcert="
        + TlsPostgres.urlValue(rootCertificate.toAbsolutePath());
  }

  private static String newChannel() {
    return "tls_" + CHANNELS.incrementAndGet();
  }

  private static String awaitLastError(DiscoveryEngine engine) {
    Poll.until(
        DEADLINE, "a connection error", () -> engine.status().lastError() != null, engine::status);
    return engine.status().lastError();
  }

  private static void assertNotReady(DiscoveryEngine engine) {
    ExecutionException failure =
        assertThrows(
            ExecutionException.class,
            () ->
                engine
                    .contactPoints(Participants.SERVICE, Duration.ofMillis(300))
                    .get(10, TimeUnit.SECONDS));
    assertInstanceOf(NotReadyException.class, failure.getCause());
  }

  private static void assertEncrypted(int backendPid) throws SQLException {
    try (Connection admin = server.openConnection("localhost", verifyFull(trustedCa));
        PreparedStatement statement =
            admin.prepareStatement("SELECT ssl, version FROM pg_stat_ssl WHERE pid = ?")) {
      statement.setInt(1, backendPid);
      try (ResultSet rs = statement.executeQuery()) {
        assertTrue(rs.next(), "no pg_stat_ssl row for backend " + backendPid);
        assertTrue(rs.getBoolean("ssl"), "backend " + backendPid + " is not using TLS");
        assertTrue(rs.getString("version").startsWith("TLS"), rs.getString("version"));
      }
    }
  }

  private static void awaitPorts(DiscoveryEngine engine, Set<Integer> expected) {
    List<Set<Integer>> last = new ArrayList<>(List.of(Set.of()));
    Poll.until(
        DEADLINE,
        engine.self().endpoint() + " sees exactly " + new TreeSet<>(expected),
        () -> {
          try {
            Set<Integer> seen =
                ports(
                    engine
                        .contactPoints(Participants.SERVICE, LOOKUP_TIMEOUT)
                        .get(10, TimeUnit.SECONDS));
            last.set(0, seen);
            return seen.equals(expected);
          } catch (Exception e) {
            last.set(0, Set.of());
            return false;
          }
        },
        () -> last.get(0) + " " + engine.status());
    assertEquals(expected, last.get(0));
  }

  private static Set<Integer> ports(List<Announcement> contactPoints) {
    return contactPoints.stream()
        .map(Announcement::port)
        .collect(Collectors.toCollection(TreeSet::new));
  }
}
