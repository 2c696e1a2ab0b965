package io.github.pgdiscovery.simulation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Records what the protocol sends, notification by notification (channel, payload, sender, commit
 * time), over fixed seeds of the fault mix, and writes one digest per seed to the file named by
 * {@code -Dsend.sequence.out}: run it before and after a change that must not change behaviour (a
 * refactoring) and compare the files. Not part of the normal run.
 *
 * <pre>
 * ./mvnw -B test -pl src/simulator -am -Dtest=SendSequenceRecording \
 *   -Dsurefire.failIfNoSpecifiedTests=false -Dsend.sequence.out=/tmp/sends-before.txt
 * </pre>
 */
@EnabledIfSystemProperty(named = "send.sequence.out", matches = ".+")
final class SendSequenceRecording {

  private static final long[] SEEDS = {
    1049, 1051, 1109, 1188, 1244, 1299, 1004, 1297, 7058, 7342, 1807, 2550, 3921, 4349, 6380, 41,
    42, 43, 44, 47, 2001, 2002, 2003, 2004, 2005
  };

  @Test
  void recordsTheSendsOfFixedSeeds() throws IOException, NoSuchAlgorithmException {
    List<String> lines = new ArrayList<>();
    for (long seed : SEEDS) {
      lines.add(seed + " " + digest(seed));
    }
    Path out = Path.of(System.getProperty("send.sequence.out"));
    Files.write(out, lines, StandardCharsets.UTF_8);
    assertTrue(Files.size(out) > 0);
  }

  /** The fault mix of {@link SimulationTest#faultMix}, recorded: notifications and their order. */
  private static String digest(long seed) throws NoSuchAlgorithmException {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    SplittableRandom choose = new SplittableRandom(seed);
    Simulation sim =
        new Simulation(
            new Simulation.Config(seed)
                .joinAfterReady(Duration.ofSeconds(1))
                .tcpTimeout(Duration.ofSeconds(30))
                .downAfter(choose.nextBoolean() ? Duration.ofSeconds(10) : Duration.ofSeconds(-1))
                .settings(
                    s ->
                        choose.nextBoolean()
                            ? s.sharedSecret("simulation-shared-secret-0123456789")
                            : s));
    List<SimulatedPostgres.Notification> sent = sim.record();
    sim.startMany("orders", 3 + choose.nextInt(20), Duration.ofMillis(choose.nextInt(3000)));
    for (int step = 0; step < 8; step++) {
      sim.run(Duration.ofMillis(500 + choose.nextInt(20_000)));
      List<SimulatedNode> live = sim.live();
      SimulatedNode victim = live.isEmpty() ? null : live.get(choose.nextInt(live.size()));
      switch (choose.nextInt(7)) {
        case 0 -> {
          if (victim != null && live.size() > 1) sim.crash(victim);
        }
        case 1 -> {
          if (victim != null && live.size() > 1) sim.shutdown(victim);
        }
        case 2 -> sim.restartDatabase(Duration.ofMillis(100 + choose.nextInt(5000)));
        case 3 -> {
          if (victim != null) sim.stall(victim);
        }
        case 4 ->
            sim.startMany("orders", 1 + choose.nextInt(5), Duration.ofMillis(choose.nextInt(200)));
        case 5 -> sim.start(sim.create("orders").staysOut());
        default -> {
          sim.start("orders");
          for (SimulatedNode member : sim.live()) {
            member.memberUp("akka://orders@10.200.0.1:25520", 4242);
          }
        }
      }
    }
    sim.run(Duration.ofMinutes(5));
    for (SimulatedPostgres.Notification n : sent) {
      sha.update(
          (n.channel() + "|" + n.payload() + "|" + n.committedAt() + "\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    return sent.size() + " " + HexFormat.of().formatHex(sha.digest());
  }
}
