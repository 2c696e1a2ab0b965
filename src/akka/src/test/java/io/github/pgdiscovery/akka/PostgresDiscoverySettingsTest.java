package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Surefire sets AKKA_DISCOVERY_POSTGRES_URL, _USER and _PASSWORD to empty, so the reference.conf
 * overrides from the environment resolve to empty strings here and only what a test writes counts.
 */
final class PostgresDiscoverySettingsTest {

  private static final String VALID_URL = "jdbc:postgresql://db.internal:5432/orders";

  // ---------------------------------------------------------------------------------------------------------------
  // Valid configuration

  @Test
  void referenceConfDefaultsAreTheCoreDefaults() {
    // One source of defaults: what reference.conf gives must be what the builder gives without
    // configuration.
    DiscoverySettings fromReference = settings("url = \"" + VALID_URL + "\"").discovery();

    assertEquals(
        DiscoverySettings.builder(VALID_URL).naming(PostgresDiscoverySettings.NAMING).build(),
        fromReference);
  }

  @Test
  void joinedHeartbeatsAreOffWrittenAnyWayHoconAllowsOrADuration() {
    for (String off : List.of("off", "\"off\"", "false", "no", "0s")) {
      assertTrue(
          settings("url = \"" + VALID_URL + "\"\njoined-heartbeat-interval = " + off)
              .discovery()
              .timing()
              .silentOnceJoined(),
          off);
    }
    assertEquals(
        Duration.ofSeconds(45),
        settings("url = \"" + VALID_URL + "\"\njoined-heartbeat-interval = 45s")
            .discovery()
            .timing()
            .joinedHeartbeatInterval());
  }

  @Test
  void urlAloneGivesTheDocumentedDefaultsForEverythingElse() {
    DiscoverySettings settings = settings("url = \"" + VALID_URL + "\"").discovery();

    assertAll(
        () -> assertEquals(VALID_URL, settings.database().url()),
        () -> assertNull(settings.database().user()),
        () -> assertNull(settings.database().password()),
        () -> assertEquals("akka_discovery", settings.channel()),
        () -> assertEquals(Duration.ofSeconds(5), settings.timing().heartbeatInterval()),
        () -> assertEquals(Duration.ZERO, settings.timing().joinedHeartbeatInterval()),
        () -> assertTrue(settings.timing().silentOnceJoined()),
        () -> assertEquals(Duration.ofSeconds(15), settings.timing().expireAfter()),
        () -> assertEquals(Duration.ofSeconds(5), settings.database().connectTimeout()),
        () -> assertEquals(Duration.ofSeconds(5), settings.database().connectionCheckInterval()),
        () -> assertEquals(Duration.ofMillis(200), settings.database().reconnectMinBackoff()),
        () -> assertEquals(Duration.ofSeconds(10), settings.database().reconnectMaxBackoff()),
        () -> assertEquals(Duration.ofMillis(300), settings.timing().probeReplyWindow()),
        () -> assertNull(settings.security().sharedSecret()),
        () -> assertEquals(Duration.ofSeconds(30), settings.security().replayWindow()),
        () -> assertEquals(1024, settings.security().maxPeersPerService()));
  }

  @Test
  void everyConfiguredValueIsCarriedIntoTheSettings() {
    DiscoverySettings settings =
        settings(
                """
        url = "jdbc:postgresql://db-1:5433,db-2:5433/app?sslmode=verify-full"
        user = discovery
        password = "pa55word"
        channel = orders_cluster_2
        heartbeat-interval = 2s
        joined-heartbeat-interval = 20s
        expire-after = 7s
        connect-timeout = 3s
        connection-check-interval = 4s
        reconnect-min-backoff = 100ms
        reconnect-max-backoff = 1m
        probe-reply-window = 0s
        shared-secret = "0123456789abcdef-secret"
        replay-window = 45s
        max-peers-per-service = 64
        """)
            .discovery();

    assertEquals(
        new DiscoverySettings(
            new DiscoverySettings.Database(
                "jdbc:postgresql://db-1:5433,db-2:5433/app?sslmode=verify-full",
                "discovery",
                "pa55word",
                null,
                Duration.ofSeconds(3),
                Duration.ofSeconds(4),
                Duration.ofMillis(100),
                Duration.ofMinutes(1)),
            "orders_cluster_2",
            new DiscoverySettings.Timing(
                Duration.ofSeconds(2),
                Duration.ofSeconds(20),
                Duration.ofSeconds(7),
                Duration.ZERO),
            new DiscoverySettings.Security("0123456789abcdef-secret", Duration.ofSeconds(45), 64),
            PostgresDiscoverySettings.NAMING),
        settings);
  }

  @Test
  void channelOfExactly63BytesIsAccepted() {
    String channel = "c".repeat(63);

    assertEquals(
        channel,
        settings("url = \"" + VALID_URL + "\"\nchannel = " + channel).discovery().channel());
  }

  @Test
  void heartbeatRaisedAboveTheJoinedHeartbeatAppliesThroughout() {
    DiscoverySettings settings =
        settings(
                "url = \""
                    + VALID_URL
                    + "\"\nheartbeat-interval = 60s\nexpire-after = 180s\njoined-heartbeat-interval = 30s")
            .discovery();

    assertEquals(Duration.ofSeconds(60), settings.timing().joinedHeartbeatInterval());
  }

  @Test
  void reconnectMaxBackoffEqualToMinBackoffIsAccepted() {
    DiscoverySettings settings =
        settings(
                "url = \""
                    + VALID_URL
                    + "\"\nreconnect-min-backoff = 1s\nreconnect-max-backoff = 1s")
            .discovery();

    assertEquals(
        settings.database().reconnectMinBackoff(), settings.database().reconnectMaxBackoff());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Invalid configuration: the message names the key and the bad value

  @ParameterizedTest(name = "settings = [{0}]")
  @ValueSource(strings = {"", "url = \"\"", "url = \"   \""})
  void missingOrEmptyUrlIsRejectedNamingTheKeyAndTheEnvironmentVariable(String settings) {
    ConfigException e = rejection(settings);

    assertMessageContains(e, "akka.discovery.postgres.url");
    assertMessageContains(e, "AKKA_DISCOVERY_POSTGRES_URL");
  }

  static Stream<Arguments> badValues() {
    String url = "url = \"" + VALID_URL + "\"\n";
    return Stream.of(
        Arguments.of("url = \"http://x\"", "url", "http://x"),
        Arguments.of("url = \"jdbc:mysql://x/db\"", "url", "jdbc:mysql://x/db"),
        Arguments.of("url = \"postgresql://x/db\"", "url", "postgresql://x/db"),
        Arguments.of("url = \"jdbc:postgresql://x:port/db\"", "url", "jdbc:postgresql://x:port/db"),
        Arguments.of(url + "channel = \"my-channel;drop\"", "channel", "my-channel;drop"),
        Arguments.of(url + "channel = \"1channel\"", "channel", "1channel"),
        Arguments.of(url + "channel = \"" + "c".repeat(64) + "\"", "channel", "c".repeat(64)),
        Arguments.of(url + "channel = \"\"", "channel", "\"\""),
        Arguments.of(url + "channel = \"kanäl\"", "channel", "kanäl"),
        Arguments.of(url + "heartbeat-interval = 0s", "heartbeat-interval", "0s"),
        Arguments.of(url + "heartbeat-interval = -5s", "heartbeat-interval", "-5s"),
        Arguments.of(url + "connect-timeout = 0ms", "connect-timeout", "0ms"),
        Arguments.of(url + "connection-check-interval = 0s", "connection-check-interval", "0s"),
        Arguments.of(url + "reconnect-min-backoff = 0s", "reconnect-min-backoff", "0s"),
        Arguments.of(url + "heartbeat-interval = 5s\nexpire-after = 3s", "expire-after", "3s"),
        Arguments.of(url + "heartbeat-interval = 5s\nexpire-after = 5s", "expire-after", "5s"),
        Arguments.of(url + "heartbeat-interval = 10s\nexpire-after = 11s", "expire-after", "11s"),
        Arguments.of(
            url + "reconnect-min-backoff = 2s\nreconnect-max-backoff = 1s",
            "reconnect-max-backoff",
            "1s"),
        Arguments.of(url + "joined-heartbeat-interval = 2h", "joined-heartbeat-interval", "2h"),
        Arguments.of(url + "joined-heartbeat-interval = -5s", "joined-heartbeat-interval", "-5s"),
        Arguments.of(url + "joined-heartbeat-interval = on", "joined-heartbeat-interval", "on"),
        Arguments.of(
            url + "joined-heartbeat-interval = sometimes",
            "joined-heartbeat-interval",
            "sometimes"),
        Arguments.of(
            url + "heartbeat-interval = 61m\nexpire-after = 4h\njoined-heartbeat-interval = 61m",
            "heartbeat-interval",
            "61m"),
        Arguments.of(url + "probe-reply-window = -100ms", "probe-reply-window", "-100ms"),
        Arguments.of(url + "replay-window = 0s", "replay-window", "0s"),
        Arguments.of(url + "max-peers-per-service = 0", "max-peers-per-service", "0"),
        Arguments.of(url + "shared-secret = \"short\"", "shared-secret", "5 characters"),
        Arguments.of(url + "heartbeat-interval = soon", "heartbeat-interval", "soon"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void badValueIsRejectedNamingTheFullKeyAndTheValue(String settings, String key, String value) {
    ConfigException e = rejection(settings);

    assertMessageContains(e, "akka.discovery.postgres." + key);
    assertMessageContains(e, value);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {"channel = [a, b]", "heartbeat-interval = { seconds = 5 }", "user = { name = u }"})
  void valueOfTheWrongTypeIsRejectedNamingTheFullKey(String setting) {
    ConfigException e = rejection("url = \"" + VALID_URL + "\"\n" + setting);

    assertMessageContains(
        e, "akka.discovery.postgres." + setting.substring(0, setting.indexOf(' ')));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Passwords

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "jdbc:mysql://h/db?password=s3cret",
        "jdbc:mysql://h/db?user=u&password=s3cret",
        "jdbc:mysql://h/db?PASSWORD=s3cret&user=u",
        "jdbc:mysql://h/db?sslpassword=s3cret",
        "jdbc:mysql://u:s3cret@h/db",
        "jdbc:postgresql://h:notaport/db?password=s3cret",
        "jdbc:postgresql://u:s3cret@h/db"
      })
  void passwordInABadUrlNeverAppearsInTheMessage(String url) {
    ConfigException e = rejection("url = \"" + url + "\"");

    assertMessageContains(e, "akka.discovery.postgres.url");
    assertFalse(e.getMessage().contains("s3cret"), () -> "password leaked: " + e.getMessage());
  }

  @Test
  void sharedSecretNeverAppearsInTheMessageOrTheSettingsDescription() {
    ConfigException tooShort =
        rejection("url = \"" + VALID_URL + "\"\nshared-secret = \"hunter2hunter\"");
    assertFalse(tooShort.getMessage().contains("hunter2hunter"), tooShort.getMessage());

    String description =
        settings("url = \"" + VALID_URL + "\"\nshared-secret = \"correct-horse-battery-staple\"")
            .discovery()
            .toString();
    assertFalse(description.contains("correct-horse-battery-staple"), description);
  }

  @Test
  void passwordNeverAppearsInTheSettingsDescription() {
    PostgresDiscoverySettings settings =
        settings(
            """
        url = "jdbc:postgresql://h/db?password=s3cret&user=u"
        password = "s3cret"
        """);

    assertFalse(settings.discovery().toString().contains("s3cret"), settings.discovery()::toString);
    assertFalse(settings.toString().contains("s3cret"), settings::toString);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Helpers

  /** The given lines inside {@code akka.discovery.postgres}, over reference.conf. */
  private static Config config(String postgresSection) {
    return ConfigFactory.parseString("akka.discovery.postgres {\n" + postgresSection + "\n}")
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  private static PostgresDiscoverySettings settings(String postgresSection) {
    return PostgresDiscoverySettings.fromConfig(config(postgresSection));
  }

  private static ConfigException rejection(String postgresSection) {
    Config config = config(postgresSection);
    return assertThrows(ConfigException.class, () -> PostgresDiscoverySettings.fromConfig(config));
  }

  private static void assertMessageContains(ConfigException e, String expected) {
    assertTrue(
        e.getMessage().contains(expected),
        () -> "expected the message to contain \"" + expected + "\": " + e.getMessage());
  }
}
