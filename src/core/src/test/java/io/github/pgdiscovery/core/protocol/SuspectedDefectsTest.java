package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.MS;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECOND;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SECRET;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.SERVICE;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.T0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.WALL0;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.makeReady;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.node;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.protocol;
import static io.github.pgdiscovery.core.protocol.ProtocolFixtures.sends;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Defects a review suspected, each settled by a test through the public API only: inputs in,
 * effects out. Those confirmed (they failed before their fix) and those disproved stay as tests
 * named after the rule; one confirmed limit is documented instead (the channel is not signed).
 */
final class SuspectedDefectsTest {

  // ------------------------------------------------------------------------------------------------ helpers
  // (a small in-memory channel; the rest is in ProtocolFixtures)

  /**
   * Delivers every payload sent in {@code from} to each of {@code to} that listens on its channel,
   * at {@code at}; returns what they did in turn, all together.
   */
  private static List<Effect> deliver(List<Effect> from, long at, DiscoveryProtocol... to) {
    List<Effect> out = new ArrayList<>();
    for (Effect.Send send : sends(from)) {
      for (DiscoveryProtocol node : to) {
        if (node.isConnected() && node.channels().contains(send.channel())) {
          out.addAll(node.received(send.payload(), at, WALL0));
        }
      }
    }
    return out;
  }

  private static boolean announcedOnTheChannel(List<Effect> effects, Announcement node) {
    return sends(effects).stream()
        .anyMatch(
            s ->
                s.channel().equals("disc")
                    && s.message() instanceof Message.Announce a
                    && a.node().equals(node));
  }

  private static boolean probedEverybody(List<Effect> effects) {
    return sends(effects).stream().anyMatch(s -> s.message() instanceof Message.Probe p && p.all());
  }

  private static Set<String> endpoints(List<Announcement> view) {
    return view.stream().map(Announcement::endpoint).collect(Collectors.toSet());
  }

  /**
   * One database: every payload sent is delivered, a millisecond later, to every connected node
   * listening on its channel, and what they send in turn, until nothing more is sent. Wall clocks
   * agree with the monotonic one.
   */
  private static final class Bus {
    final List<DiscoveryProtocol> nodes = new ArrayList<>();
    final Deque<Effect.Send> queue = new ArrayDeque<>();
    long now;

    Bus(long now) {
      this.now = now;
    }

    long wall() {
      return WALL0 + (now - T0) / MS;
    }

    void connect(DiscoveryProtocol node) {
      if (!nodes.contains(node)) {
        nodes.add(node);
      }
      queue.addAll(sends(node.connected(now, wall())));
      drain();
    }

    void leave(DiscoveryProtocol node) {
      node.disconnected(now);
      nodes.remove(node);
    }

    void drain() {
      while (!queue.isEmpty()) {
        now += MS;
        List<Effect.Send> batch = new ArrayList<>(queue);
        queue.clear();
        for (Effect.Send send : batch) {
          for (DiscoveryProtocol node : nodes) {
            if (node.isConnected() && node.channels().contains(send.channel())) {
              queue.addAll(sends(node.received(send.payload(), now, wall())));
            }
          }
        }
      }
    }

    void input(List<Effect> effects) {
      queue.addAll(sends(effects));
      drain();
    }

    /** Ticks every node every 50 ms for {@code duration}, delivering what they send. */
    void run(Duration duration) {
      long end = now + duration.toNanos();
      while (end - now > 0) {
        now += 50 * MS;
        for (DiscoveryProtocol node : List.copyOf(nodes)) {
          queue.addAll(sends(node.tick(now, wall())));
        }
        drain();
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ 1

  /**
   * A cold start: N asks everybody, M answers with its announcement. Two nodes ranked before M by
   * host, X and Y, crash right after, unnoticed. N's connection drops and comes back: nobody ready
   * ranks among N's first two responders (X and Y are), so N asks everybody again, 0.5 s after the
   * first time. C connected between the two probes of everybody, after M's answer to the first: its
   * first probe got no roster either, and it takes N's second probe of everybody as its own. M must
   * answer that one too, on the channel, or C becomes ready without M.
   */
  @Test
  void
      aProbeOfEverybodyAskedAgainAfterTheAskersReconnectIsAnsweredSoANodeConnectedBetweenHearsAll() {
    DiscoveryProtocol asker = protocol(node(8501), s -> s);
    DiscoveryProtocol member = protocol(node(8504), s -> s);
    DiscoveryProtocol newcomer = protocol(node(8505), s -> s);
    MessageCodec codec = new MessageCodec();
    long t = T0;

    deliver(asker.connected(t, WALL0), t + MS, asker);
    deliver(member.connected(t + 5 * MS, WALL0), t + 6 * MS, asker, member);
    for (int port : new int[] {8502, 8503}) {
      String crashesSoon = codec.encode(new Message.Announce(node(port), 5000));
      asker.received(crashesSoon, t + 10 * MS, WALL0);
      member.received(crashesSoon, t + 10 * MS, WALL0);
    }
    // M's first probe went unanswered: it asks again, of the next responders too.
    deliver(member.tick(t + 308 * MS, WALL0), t + 309 * MS, asker, member);

    List<Effect> firstAsk = asker.tick(t + 400 * MS, WALL0);
    assertTrue(probedEverybody(firstAsk), firstAsk::toString);
    List<Effect> memberAnswer = deliver(firstAsk, t + 401 * MS, member);
    assertTrue(announcedOnTheChannel(memberAnswer, member.self()), memberAnswer::toString);
    deliver(firstAsk, t + 401 * MS, asker);
    deliver(memberAnswer, t + 402 * MS, asker);

    asker.disconnected(t + 450 * MS);
    deliver(asker.connected(t + 600 * MS, WALL0), t + 601 * MS, asker, member);
    List<Effect> joining = newcomer.connected(t + 700 * MS, WALL0);
    deliver(joining, t + 701 * MS, asker, newcomer);
    deliver(deliver(joining, t + 701 * MS, member), t + 702 * MS, asker, newcomer);
    // M has waited out the first probe of everybody: ready, it answers the probes it kept, but it
    // ranks third for both (after N, X and Y): no roster.
    List<Effect> memberReady = member.tick(t + 703 * MS, WALL0);
    assertTrue(member.isReady());
    assertEquals(List.of(), sends(memberReady));

    List<Effect> secondAsk = asker.tick(t + 903 * MS, WALL0);
    assertTrue(probedEverybody(secondAsk), "the asker asks everybody again: " + secondAsk);
    deliver(secondAsk, t + 904 * MS, asker, newcomer);
    List<Effect> memberAnswerAgain = deliver(secondAsk, t + 904 * MS, member);
    deliver(memberAnswerAgain, t + 905 * MS, asker, newcomer);

    newcomer.tick(t + 1300 * MS, WALL0);
    assertTrue(newcomer.isReady(), newcomer.notReadyReason(t + 1300 * MS));
    List<Announcement> view = newcomer.lookup(SERVICE, t + 1300 * MS).orElseThrow();
    assertTrue(
        view.contains(member.self()),
        "C became ready without M, which answered the asker's first probe of everybody 0.5 s"
            + " before and not its second (suppressed: "
            + member.snapshot(t + 1300 * MS).repliesSuppressed()
            + "); C's view: "
            + endpoints(view));
  }

  // ------------------------------------------------------------------------------------------------ 2

  /**
   * A formed cluster whose first two responders by host, X and Y, just crashed unnoticed; M is
   * third. A newcomer C with the shared secret probes: nobody answers its first attempt, and M
   * answers its second. Someone with database access plays back a probe of everybody that N signed
   * 10 s ago, before C listened: every member heard it then and drops the copy, so nobody answers,
   * but C never heard N and takes it. C must not give up asking and be ready on nothing.
   */
  @Test
  void aSignedProbeOfEverybodySentBeforeTheNewcomerListenedDoesNotStopItAskingForAView() {
    MessageCodec signer = new MessageCodec(SECRET);
    DiscoveryProtocol member = protocol(node(8504), s -> s.sharedSecret(SECRET));
    long now = makeReady(member, T0);
    long wall = WALL0 + 1_000;
    member.memberUp(member.self().address(), member.self().uid());
    member.tick(now, wall);
    long seq = 1;
    for (int port : new int[] {8502, 8503}) {
      Announcement crashed = node(port);
      member.received(
          signer.encode(Message.Announce.watched(crashed), seq++, wall), now + MS, wall);
      member.memberUp(crashed.address(), crashed.uid());
    }
    // N asked everybody 10 s ago; the member heard it then (and answered).
    Announcement asker = node(8501);
    String probeOfEverybody =
        signer.encode(new Message.Probe(SERVICE, asker.incarnation(), true), 9, wall);
    member.received(probeOfEverybody, now + 2 * MS, wall);

    long t = now + 10 * SECOND;
    long cWall = wall + 10_000;
    DiscoveryProtocol newcomer = protocol(node(8505), s -> s.sharedSecret(SECRET));
    List<Effect> out = newcomer.connected(t, cWall);
    Boolean readyWithMember = null;
    List<Announcement> viewAtReadiness = List.of();
    for (int step = 0; step < 60 && readyWithMember == null; step++) {
      t += MS;
      List<Effect> answers = deliver(out, t, member);
      deliver(out, t, newcomer);
      deliver(answers, t + MS, newcomer);
      if (step == 0) {
        // The playback, right after the newcomer's probe came back.
        assertEquals(
            List.of(), sends(member.received(probeOfEverybody, t + 2 * MS, cWall + 1)), "replay");
        newcomer.received(probeOfEverybody, t + 2 * MS, cWall + 1);
      }
      t += 50 * MS;
      out = newcomer.tick(t, cWall + (t - now - 10 * SECOND) / MS);
      if (newcomer.isReady()) {
        viewAtReadiness = newcomer.lookup(SERVICE, t).orElseThrow();
        readyWithMember = viewAtReadiness.contains(member.self());
      }
    }
    assertEquals(
        Boolean.TRUE,
        readyWithMember,
        "the newcomer became ready with "
            + endpoints(viewAtReadiness)
            + ", without the member that would have answered its next probe; probes it sent"
            + " again: "
            + newcomer.snapshot(t).sentByType());
  }

  // ------------------------------------------------------------------------------------------------ 3

  /**
   * Two channels of one database share a secret (two clusters, or two environments): the signature
   * does not cover the channel, so an announcement recorded on channel a and played back on channel
   * b lists a node of a in b's view (for an expiry; Bootstrap finds it of another cluster). A
   * limit, documented (README, Security: one secret per channel), rather than a change of what is
   * signed, which nodes of this version and the next could not both read.
   */
  @Test
  void aMessageSignedForOneChannelIsTakenOnAnotherThatSharesTheSecretSoEachChannelNeedsItsOwn() {
    DiscoveryProtocol onA = protocol(node(8501), s -> s.channel("disc_a").sharedSecret(SECRET));
    DiscoveryProtocol onB = protocol(node(8502), s -> s.channel("disc_b").sharedSecret(SECRET));
    long now = makeReady(onB, T0);

    Effect.Send announcedOnA = sends(onA.connected(now, WALL0 + 500)).get(0);
    assertEquals("disc_a", announcedOnA.channel());
    List<Effect> out = onB.received(announcedOnA.payload(), now + MS, WALL0 + 500);

    assertTrue(out.stream().anyMatch(Effect.PeerAdded.class::isInstance), out::toString);
    DiscoveryProtocol otherSecret =
        protocol(node(8503), s -> s.channel("disc_b").sharedSecret(SECRET + "-b"));
    long then = makeReady(otherSecret, T0);
    otherSecret.received(announcedOnA.payload(), then + MS, WALL0 + 500);
    assertEquals(1L, otherSecret.snapshot(then + MS).rejected().get(Reason.BAD_SIGNATURE));
  }

  // ------------------------------------------------------------------------------------------------ 4

  private static long usedHeap() throws InterruptedException {
    Runtime runtime = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
      used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
    }
    return used;
  }

  /**
   * Without a secret anyone with database access can send rosters to a node's reply channel (its
   * incarnation is in its probes). Each from another made-up responder must not cost memory for as
   * long as the connection lasts: what a node keeps per sender is bounded, as the README says.
   */
  @Test
  void unsignedRosterPartsFromManyMadeUpRespondersCostBoundedMemory() throws InterruptedException {
    DiscoveryProtocol target = protocol(node(8558), s -> s);
    long now = makeReady(target, T0);
    MessageCodec stranger = new MessageCodec();
    String to = target.self().incarnation();
    int flood = 300_000;
    target.received(
        stranger.encode(new Message.Roster(SERVICE, "warm-up", to, 0, 2, List.of())), now, WALL0);

    long before = usedHeap();
    for (int i = 0; i < flood; i++) {
      target.received(
          stranger.encode(
              new Message.Roster(SERVICE, "made-up-responder-" + i, to, 0, 2, List.of())),
          now + i,
          WALL0);
    }
    long grown = usedHeap() - before;

    assertTrue(target.isConnected());
    assertTrue(
        grown < 16L * 1024 * 1024,
        flood + " roster parts from made-up responders kept " + grown / 1024 / 1024 + " MB");
  }

  // ------------------------------------------------------------------------------------------------ 5

  /**
   * Two live incarnations on one endpoint: b, stating an hour's interval (kept 3 h here), took over
   * from a (15 s), and a was heard again (a clash). When a goes quiet for its expiry the clash
   * ends; b's goodbye then drops the endpoint with a PeerRemoved. Returns the effects of the
   * goodbye.
   */
  private static List<Effect> clashThenQuietThenGoodbye(long base) {
    DiscoveryProtocol protocol =
        protocol(node(8558), s -> s.joinedHeartbeatInterval(Duration.ofHours(1)));
    long now = makeReady(protocol, base);
    MessageCodec codec = new MessageCodec();
    Announcement a =
        new Announcement(SERVICE, "10.0.0.77", 8577, "akka://orders@host-a:25520", 1, "a");
    Announcement b =
        new Announcement(SERVICE, "10.0.0.77", 8577, "akka://orders@host-b:25520", 2, "b");
    protocol.received(codec.encode(new Message.Announce(a, 5_000)), now, WALL0);
    protocol.received(codec.encode(new Message.Announce(b, 3_600_000)), now + MS, WALL0);
    protocol.received(codec.encode(new Message.Announce(a, 5_000)), now + 2 * MS, WALL0);
    assertEquals(1, protocol.snapshot(now + 2 * MS).clashes().size());
    // The engine ticks when asked to: the first deadline queued (a's first expiry) is due here.
    protocol.tick(now + 15 * SECOND + MS, WALL0);
    return protocol.received(codec.encode(new Message.Goodbye(b)), now + 20 * SECOND, WALL0);
  }

  @Test
  void aClashEndsWhenItsQuietSideExpiresAlsoWhenTheOtherSidesDeadlineIsPastTheClockWrap() {
    List<Effect> farFromTheWrap = clashThenQuietThenGoodbye(T0);
    assertTrue(
        farFromTheWrap.stream()
            .anyMatch(e -> e instanceof Effect.PeerRemoved r && r.peer().incarnation().equals("b")),
        "control: " + farFromTheWrap);

    List<Effect> acrossTheWrap = clashThenQuietThenGoodbye(Long.MAX_VALUE - 100 * SECOND);
    assertTrue(
        acrossTheWrap.stream()
            .anyMatch(e -> e instanceof Effect.PeerRemoved r && r.peer().incarnation().equals("b")),
        "b's goodbye removed nothing when b's 3 h deadline lies past the wrap: " + acrossTheWrap);
  }

  @Test
  void aPeerHeardJustBeforeTheMonotonicClockWrapsExpiresOnTimeAfterIt() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long now = makeReady(protocol, Long.MAX_VALUE - 5 * SECOND);
    Announcement peer = node(8600);
    protocol.received(new MessageCodec().encode(new Message.Announce(peer)), now, WALL0);
    long expiry = now + protocol.settings().timing().expireAfter().toNanos();
    assertTrue(expiry < 0, "the expiry lies past the wrap");

    for (long t = now + SECOND; expiry - t > 0; t += SECOND) {
      protocol.tick(t, WALL0);
      // Once ticked, nothing is overdue: the next deadline is ahead, by a second at most.
      long next = protocol.nextDeadline(t);
      assertTrue(next - t >= 0 && next - t <= SECOND, "next deadline " + (next - t) + " ns ahead");
      assertTrue(protocol.lookup(SERVICE, t).orElseThrow().contains(peer), "kept at " + t);
    }
    List<Effect> out = protocol.tick(expiry + 1, WALL0);
    assertTrue(
        out.stream().anyMatch(e -> e instanceof Effect.PeerRemoved r && r.peer().equals(peer)),
        out::toString);
    assertFalse(protocol.lookup(SERVICE, expiry + 1).orElseThrow().contains(peer));
  }

  @Test
  void aWaitingNodeAsksAgainOnTimeWhenItsReplyWaitEndsPastTheClockWrap() {
    DiscoveryProtocol protocol = protocol(node(8558), s -> s);
    long start = Long.MAX_VALUE - 100 * MS;
    List<Effect> out = protocol.connected(start, WALL0);
    deliver(out, start + MS, protocol);
    long echo = start + MS;
    long due = echo + protocol.settings().timing().probeReplyWindow().toNanos() + 2 * MS;
    assertTrue(due < 0, "the reply wait ends past the wrap");

    long next = protocol.nextDeadline(echo);
    assertTrue(next - echo > 0 && next - due <= 0, "next deadline " + (next - echo) + " ns ahead");
    assertEquals(List.of(), sends(protocol.tick(due - 1, WALL0)), "asked again too early");
    List<Effect.Send> again = sends(protocol.tick(due, WALL0));
    assertEquals(1, again.size(), again::toString);
    assertTrue(again.get(0).message() instanceof Message.Probe p && p.attempt() == 1);
  }

  // ------------------------------------------------------------------------------------------------ 6

  /**
   * Two clusters of one service, with one secret, on one channel (formed apart, e.g. while one was
   * off the database, then both on it): nothing in a message tells them apart. The members of each
   * take the other's as peers, and a newcomer's view holds the members of both, so its Bootstrap
   * may join either.
   */
  @Test
  void twoClustersOfOneServiceAndSecretOnOneChannelAreOneViewToANewcomer() {
    UnaryOperator<DiscoverySettings.Builder> signed = s -> s.sharedSecret(SECRET);
    DiscoveryProtocol a1 = protocol(node(8501), signed);
    DiscoveryProtocol a2 = protocol(node(8503), signed);
    DiscoveryProtocol b1 = protocol(node(8502), signed);
    DiscoveryProtocol b2 = protocol(node(8504), signed);
    Bus one = new Bus(T0);
    Bus other = new Bus(T0);
    formCluster(one, a1, a2);
    formCluster(other, b1, b2);
    other.leave(b1);
    other.leave(b2);
    one.now = Math.max(one.now, other.now);
    one.connect(b1);
    one.connect(b2);
    one.run(Duration.ofSeconds(2));

    assertEquals(
        Set.of(
            a1.self().endpoint(), a2.self().endpoint(), b1.self().endpoint(), b2.self().endpoint()),
        endpoints(a1.lookup(SERVICE, one.now).orElseThrow()),
        "a member of one cluster takes the other's members as peers");

    DiscoveryProtocol newcomer = protocol(node(8505), signed);
    one.connect(newcomer);
    one.run(Duration.ofSeconds(2));
    assertTrue(newcomer.isReady(), newcomer.notReadyReason(one.now));
    assertEquals(
        Set.of(
            a1.self().endpoint(),
            a2.self().endpoint(),
            b1.self().endpoint(),
            b2.self().endpoint(),
            newcomer.self().endpoint()),
        endpoints(newcomer.lookup(SERVICE, one.now).orElseThrow()),
        "the newcomer's view holds both clusters");

    // Members keep the other cluster's members only for a watched peer's stay; newcomers still see
    // both, since the first responders of each cluster answer.
    one.run(Duration.ofMinutes(2));
    DiscoveryProtocol later = protocol(node(8506), signed);
    one.connect(later);
    one.run(Duration.ofSeconds(2));
    assertTrue(later.isReady(), later.notReadyReason(one.now));
    assertTrue(
        endpoints(later.lookup(SERVICE, one.now).orElseThrow())
            .containsAll(
                Set.of(
                    a1.self().endpoint(),
                    a2.self().endpoint(),
                    b1.self().endpoint(),
                    b2.self().endpoint())),
        () -> "two minutes on: " + endpoints(later.lookup(SERVICE, one.now).orElseThrow()));
  }

  /** The nodes start on the bus, become ready, and join one cluster: each is told all are Up. */
  private static void formCluster(Bus bus, DiscoveryProtocol... nodes) {
    for (DiscoveryProtocol node : nodes) {
      bus.connect(node);
    }
    bus.run(Duration.ofSeconds(3));
    for (DiscoveryProtocol node : nodes) {
      assertTrue(node.isReady(), node.notReadyReason(bus.now));
      for (DiscoveryProtocol member : nodes) {
        bus.input(node.memberUp(member.self().address(), member.self().uid()));
      }
    }
    bus.run(Duration.ofSeconds(1));
  }
}
