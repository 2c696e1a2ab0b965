package io.github.pgdiscovery.core;

import static io.github.pgdiscovery.core.Participants.awaitPorts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.LogCapture;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.RestartablePostgres;
import io.github.pgdiscovery.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * Credentials that change while the nodes run (a rotated secret, a token valid for minutes): the
 * password in effect at each reconnect is the one used, with no restart, and none is ever logged.
 * The server asks for the password (scram-sha-256), so a stale one is refused as it would be.
 */
@DatabaseTest
final class RotatingCredentialsTest {

  private static final String ROLE = "pgd_rotating";
  private static final String FIRST = "first-Secret-4711";
  private static final String SECOND = "second-Secret-0815";
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private final Participants participants;
  private final Resources resources = new Resources();
  private RestartablePostgres server;
  private LogCapture logs;

  RotatingCredentialsTest(TestDatabase db) {
    this.participants = new Participants(db);
  }

  @BeforeEach
  void startServer(@TempDir Path dataDirectory) throws Exception {
    logs = resources.add(LogCapture.of(Logger.ROOT_LOGGER_NAME));
    server = resources.add(RestartablePostgres.start(dataDirectory));
    server.requirePassword(ROLE, FIRST);
  }

  @AfterEach
  void cleanUp() throws Exception {
    participants.close();
    resources.close();
  }

  @Test
  void aPasswordFileIsReadAgainAtEveryConnectSoARotatedSecretIsUsedWithoutARestart(
      @TempDir Path secrets) throws Exception {
    Path file = secrets.resolve("password");
    Files.writeString(file, FIRST + "\n");
    DiscoveryEngine node =
        participants.start(
            9961, settings -> onServer(settings).password(null).passwordFile(file.toString()));
    awaitPorts(node, Set.of(9961));

    // The usual order of a rotation: the database changes first, the mounted secret follows.
    rotateTo(SECOND, node);
    Poll.until(
        DEADLINE,
        "a reconnect refused with the old password",
        () -> String.valueOf(node.status().lastError()).contains("password authentication failed"),
        node::status);
    Files.writeString(file, SECOND + "\n");

    Poll.until(
        DEADLINE,
        "reconnected with the password now in the file",
        () -> node.status().reconnects() == 1 && node.isReady(),
        node::status);
    assertNoSecretLogged();
  }

  @Test
  void anAuthenticationPluginNamedInTheUrlIsAskedAtEveryConnect() throws Exception {
    RotatingPasswordPlugin.PASSWORD.set(FIRST);
    RotatingPasswordPlugin.ASKED.set(0);
    DiscoveryEngine node =
        participants.start(
            9962,
            settings ->
                onServer(settings)
                    .url(
                        server.jdbcUrlAs(ROLE)
                            + "&authenticationPluginClassName="
                            + RotatingPasswordPlugin.class.getName()));
    awaitPorts(node, Set.of(9962));
    int askedAtStart = RotatingPasswordPlugin.ASKED.get();

    RotatingPasswordPlugin.PASSWORD.set(SECOND);
    rotateTo(SECOND, node);

    Poll.until(
        DEADLINE,
        "reconnected with the plugin's new password",
        () -> node.status().reconnects() == 1 && node.isReady(),
        node::status);
    assertTrue(RotatingPasswordPlugin.ASKED.get() > askedAtStart, "the plugin was asked again");
    assertNoSecretLogged();
  }

  private DiscoverySettings.Builder onServer(DiscoverySettings.Builder settings) {
    return settings
        .url(server.jdbcUrlAs(ROLE))
        .user(ROLE)
        .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500));
  }

  /** Changes the role's password on the server and ends the node's session, as a failover does. */
  private void rotateTo(String password, DiscoveryEngine node) throws Exception {
    int pid = node.backendPid().orElseThrow();
    try (Connection admin = DriverManager.getConnection(server.jdbcUrl());
        Statement statement = admin.createStatement()) {
      statement.execute("ALTER ROLE " + ROLE + " PASSWORD '" + password + "'");
      try (PreparedStatement terminate = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
        terminate.setInt(1, pid);
        terminate.executeQuery().close();
      }
    }
  }

  private void assertNoSecretLogged() {
    for (ILoggingEvent event : logs.all()) {
      String text =
          event.getFormattedMessage()
              + (event.getThrowableProxy() == null
                  ? ""
                  : ThrowableProxyUtil.asString(event.getThrowableProxy()));
      for (String secret : new String[] {FIRST, SECOND}) {
        assertEquals(-1, text.indexOf(secret), "a password was logged: " + text);
      }
    }
  }
}
