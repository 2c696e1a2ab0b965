package io.github.pgdiscovery.core;

import static io.github.pgdiscovery.core.Participants.awaitPorts;
import static io.github.pgdiscovery.core.Participants.ports;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.github.pgdiscovery.core.EngineStatus.ConnectionState;
import io.github.pgdiscovery.core.protocol.FuzzPayloads;
import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.protocol.MessageCodec;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import io.github.pgdiscovery.testing.ChannelTap;
import io.github.pgdiscovery.testing.DatabaseTest;
import io.github.pgdiscovery.testing.LogCapture;
import io.github.pgdiscovery.testing.Poll;
import io.github.pgdiscovery.testing.Resources;
import io.github.pgdiscovery.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Nodes with a shared secret on a channel where anybody can say anything. */
@DatabaseTest
final class HostileInputTest {

  private static final Logger log = LoggerFactory.getLogger(HostileInputTest.class);
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final String SECRET = "the-cluster-secret-0123456789";
  private static final int FUZZ_PAYLOADS = 10_000;

  /** System property that fixes the fuzz seed, to replay a failed run. */
  private static final String FUZZ_SEED_PROPERTY = "pgdiscovery.fuzz.seed";

  private final TestDatabase db;
  private final Participants participants;
  private final Resources resources = new Resources();

  HostileInputTest(TestDatabase db) {
    this.db = db;
    this.participants = new Participants(db);
  }

  @AfterEach
  void cleanUp() throws Exception {
    participants.close();
    resources.close();
  }

  @Test
  void clustersWithDifferentSecretsOnOneChannelStayApart() {
    DiscoveryEngine a1 = participants.start(9801, secret(SECRET));
    DiscoveryEngine a2 = participants.start(9802, secret(SECRET));
    awaitPorts(a1, Set.of(9801, 9802));
    awaitPorts(a2, Set.of(9801, 9802));

    DiscoveryEngine b1 = participants.start(9803, secret("another-cluster-secret-98765"));

    awaitPorts(b1, Set.of(9803));
    Poll.until(
        DEADLINE,
        "a1 counts b1's messages as badly signed",
        () -> a1.status().rejected().get(Reason.BAD_SIGNATURE) > 0,
        a1::status);
    assertEquals(Set.of(9801, 9802), ports(a1));
  }

  @Test
  void recordedAnnouncementReplayedAfterGoodbyeDoesNotResurrectThePeer() throws Exception {
    ChannelTap tap = tap();
    DiscoveryEngine stays = participants.start(9811, secret(SECRET));
    DiscoveryEngine leaves = participants.start(9812, secret(SECRET));
    awaitPorts(stays, Set.of(9811, 9812));
    String recorded =
        tap.heard(500).stream()
            .filter(payload -> payload.contains("\"announce\"") && payload.contains("9812"))
            .findFirst()
            .orElseThrow();

    leaves.close();
    awaitPorts(stays, Set.of(9811));
    tap.send(recorded);

    Poll.until(
        DEADLINE,
        "the replay is counted as rejected",
        () -> stays.status().rejected().get(Reason.REPLAYED) == 1,
        stays::status);
    assertEquals(Set.of(9811), ports(stays));
  }

  @Test
  void floodOfNewContactPointsStopsAtTheBoundPerService() throws Exception {
    ChannelTap tap = tap();
    DiscoveryEngine node =
        participants.start(9821, s -> s.sharedSecret(null).maxPeersPerService(5));
    awaitPorts(node, Set.of(9821));
    MessageCodec unsigned = new MessageCodec();
    List<String> flood = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      flood.add(unsigned.encode(new Message.Announce(Participants.announcement(20000 + i))));
    }

    tap.send(flood);

    Poll.until(
        DEADLINE,
        "45 announcements refused as table full",
        () -> node.status().rejected().get(Reason.TABLE_FULL) == 45,
        node::status);
    assertEquals(6, ports(node).size(), "five peers and the node itself");
  }

  @Test
  void fuzzedPayloadsAreAllRejectedCountedAndRateLimitedWhileTheNodeKeepsWorking()
      throws Exception {
    // The seed comes first, so that a run that fails or hangs has logged it and can be replayed
    // with
    // -Dpgdiscovery.fuzz.seed=<seed>; every assertion message repeats it.
    long seed = Long.getLong(FUZZ_SEED_PROPERTY, System.nanoTime());
    String replay =
        " (fuzz seed " + seed + ", replay with -D" + FUZZ_SEED_PROPERTY + "=" + seed + ")";
    log.info("Fuzz seed {}: replay with -D{}={}", seed, FUZZ_SEED_PROPERTY, seed);
    LogCapture warnings = LogCapture.of(DiscoveryEngine.class);
    resources.add(warnings);
    ChannelTap tap = tap();
    DiscoveryEngine node = participants.start(9831, secret(SECRET));
    participants.start(9832, secret(SECRET));
    awaitPorts(node, Set.of(9831, 9832));
    List<String> payloads = new FuzzPayloads(seed).generate(FUZZ_PAYLOADS);
    long rejectedBefore = node.status().rejectedTotal();

    long started = System.nanoTime();
    tap.send(payloads);
    Poll.until(
        Duration.ofSeconds(120),
        "every fuzzed payload rejected" + replay,
        () -> node.status().rejectedTotal() - rejectedBefore == FUZZ_PAYLOADS,
        node::status);
    long elapsedMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();

    EngineStatus status = node.status();
    log.info(
        "Fuzz (seed {}): {} payloads rejected in {} ms, by reason {}",
        seed,
        FUZZ_PAYLOADS,
        elapsedMillis,
        status.rejected());
    assertEquals(status.received(), status.accepted() + status.rejectedTotal(), status + replay);
    assertEquals(ConnectionState.CONNECTED, status.state(), replay);
    assertTrue(status.ready(), replay);
    assertEquals(Set.of(9831, 9832), ports(node), replay);
    assertEquals(
        Set.of(9832),
        status.peers().stream().map(p -> p.node().port()).collect(Collectors.toSet()),
        replay);
    long dropWarnings = warnings.count(Level.WARN, participants.channel() + "-9831", "Dropped");
    assertTrue(
        dropWarnings <= 1 + elapsedMillis / 10_000,
        dropWarnings + " warnings in " + elapsedMillis + " ms" + replay);
  }

  private ChannelTap tap() throws Exception {
    ChannelTap tap = new ChannelTap(db, participants.channel());
    resources.add(tap);
    return tap;
  }

  private static UnaryOperator<DiscoverySettings.Builder> secret(String secret) {
    return s -> s.sharedSecret(secret);
  }
}
