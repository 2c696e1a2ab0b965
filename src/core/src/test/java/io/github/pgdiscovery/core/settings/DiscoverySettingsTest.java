package io.github.pgdiscovery.core.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.settings.DiscoverySettings.Naming;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules of the settings, on plain values: every rule lives in {@link
 * DiscoverySettings.Builder#build()}.
 */
final class DiscoverySettingsTest {

  private static final DiscoverySettings DEFAULTS =
      DiscoverySettings.builder("jdbc:postgresql://db/app").build();

  @Test
  void aPeerThatStatesNoIntervalOrTheNormalOneOrAShorterOneGetsExpireAfter() {
    long expireAfter = DEFAULTS.timing().expireAfter().toNanos();

    assertEquals(expireAfter, DEFAULTS.timing().expireAfterNanos(0));
    assertEquals(expireAfter, DEFAULTS.timing().expireAfterNanos(5_000));
    assertEquals(expireAfter, DEFAULTS.timing().expireAfterNanos(1_000));
  }

  @Test
  void aPeerThatStatesALongerIntervalMayMissAsManyHeartbeatsAsANormalOne() {
    // 5 s heartbeat, 15 s expiry, so three heartbeats; at a joined 30 s that is 90 s.
    DiscoverySettings.Timing timing =
        DEFAULTS.toBuilder().joinedHeartbeatInterval(Duration.ofSeconds(30)).build().timing();
    assertEquals(Duration.ofSeconds(90).toNanos(), timing.expireAfterNanos(30_000));
    assertEquals(Duration.ofSeconds(45).toNanos(), timing.expireAfterNanos(15_000));
  }

  @Test
  void anAnnouncementCannotBuyALongerStayThanThisNodesOwnJoinedIntervalGives() {
    // A forged interval of an hour would have kept the entry three hours. With joined heartbeats
    // off (the
    // default) nobody states more than heartbeat-interval, so expire-after is the most; at a joined
    // 30 s, 90 s.
    assertEquals(Duration.ofSeconds(15).toNanos(), DEFAULTS.timing().expireAfterNanos(3_600_000));
    assertEquals(
        Duration.ofSeconds(90).toNanos(),
        DEFAULTS.toBuilder()
            .joinedHeartbeatInterval(Duration.ofSeconds(30))
            .build()
            .timing()
            .expireAfterNanos(3_600_000));
  }

  @Test
  void aJoinedHeartbeatShorterThanTheHeartbeatGivesTheHeartbeatThroughout() {
    DiscoverySettings settings =
        DEFAULTS.toBuilder()
            .timings(Duration.ofMinutes(1), Duration.ofMinutes(3))
            .joinedHeartbeatInterval(Duration.ofSeconds(30))
            .build();

    assertEquals(Duration.ofMinutes(1), settings.timing().joinedHeartbeatInterval());
  }

  @Test
  void joinedHeartbeatLongerThanAnHourIsRefusedNamingTheKey() {
    DiscoverySettings.InvalidSetting error =
        assertThrows(
            DiscoverySettings.InvalidSetting.class,
            () -> DEFAULTS.toBuilder().joinedHeartbeatInterval(Duration.ofMinutes(61)).build());

    assertEquals("joined-heartbeat-interval", error.key());
    assertTrue(error.problem().contains("1h1m"), error.problem());
  }

  @Test
  void expiryWithinOneHeartbeatAndItsJitterIsRefused() {
    DiscoverySettings.InvalidSetting error =
        assertThrows(
            DiscoverySettings.InvalidSetting.class,
            () ->
                DEFAULTS.toBuilder()
                    .timings(Duration.ofSeconds(10), Duration.ofSeconds(11))
                    .build());

    assertEquals("expire-after", error.key());
  }

  @Test
  void toBuilderRebuildsTheSameSettings() {
    DiscoverySettings settings =
        DEFAULTS.toBuilder()
            .user("u")
            .password("p")
            .channel("c2")
            .sharedSecret("0123456789abcdef")
            .maxPeersPerService(7)
            .build();

    assertEquals(settings, settings.toBuilder().build());
  }

  @Test
  void aMissingUrlNamesTheEnvironmentVariableOfTheAdapterInUse() {
    DiscoverySettings.Naming pekko =
        new DiscoverySettings.Naming(
            "pekko.discovery.postgres",
            "PEKKO_DISCOVERY_POSTGRES",
            "pekko-discovery-postgres",
            "pekko_discovery");

    DiscoverySettings.InvalidSetting error =
        assertThrows(
            DiscoverySettings.InvalidSetting.class,
            () -> DiscoverySettings.builder(" ").naming(pekko).build());

    assertEquals("url", error.key());
    assertTrue(error.problem().contains("PEKKO_DISCOVERY_POSTGRES_URL"), error.problem());
  }

  @Test
  void aPasswordFileIsReadAtConnectWithoutItsTrailingLineBreakAndNeverShown(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("password");
    Files.writeString(file, "s3cret with spaces \n");
    DiscoverySettings settings = DEFAULTS.toBuilder().passwordFile(file.toString()).build();

    assertEquals("s3cret with spaces ", settings.database().currentPassword(Naming.NEUTRAL));
    Files.writeString(file, "rotated");
    assertEquals("rotated", settings.database().currentPassword(Naming.NEUTRAL));
    assertFalse(settings.toString().contains("rotated"), settings.toString());
  }

  @Test
  void aPasswordFileThatCannotBeReadAtStartOrComesWithAPasswordIsRefusedNamingTheKey(
      @TempDir Path dir) throws Exception {
    String missing = dir.resolve("missing").toString();
    DiscoverySettings.InvalidSetting unreadable =
        assertThrows(
            DiscoverySettings.InvalidSetting.class,
            () -> DEFAULTS.toBuilder().passwordFile(missing).build());
    assertEquals("password-file", unreadable.key());
    assertTrue(unreadable.problem().contains(missing), unreadable.problem());

    Path file = Files.writeString(dir.resolve("password"), "x");
    DiscoverySettings.InvalidSetting both =
        assertThrows(
            DiscoverySettings.InvalidSetting.class,
            () -> DEFAULTS.toBuilder().password("y").passwordFile(file.toString()).build());
    assertEquals("password-file", both.key());
  }

  @Test
  void aPasswordFileGoneAfterStartFailsTheConnectNamingTheKeyAndTheFile(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("password"), "gone-soon");
    DiscoverySettings settings = DEFAULTS.toBuilder().passwordFile(file.toString()).build();
    Files.delete(file);

    SQLException error =
        assertThrows(SQLException.class, () -> settings.database().currentPassword(Naming.NEUTRAL));
    assertTrue(error.getMessage().contains("password-file"), error.getMessage());
    assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
  }
}
