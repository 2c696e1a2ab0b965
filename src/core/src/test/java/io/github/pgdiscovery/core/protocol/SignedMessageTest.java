package io.github.pgdiscovery.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import org.junit.jupiter.api.Test;

/** Signing with a shared secret, and the replay guard that works on signed messages. */
final class SignedMessageTest {

  private static final String SECRET = "a-shared-secret-of-some-length";
  private static final long NOW = 1_763_769_600_000L;
  private static final Announcement NODE =
      new Announcement(
          "orders",
          "10.0.0.5",
          8558,
          "akka://orders@10.0.0.5:25520",
          -4226452422189680915L,
          "3f1c9a7e");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MessageCodec signing = new MessageCodec(SECRET);

  @Test
  void signedMessageOpensWithTheSameSecretWithItsSequenceAndTimestamp() throws Exception {
    String payload = signing.encode(new Message.Announce(NODE), 7, NOW);

    MessageCodec.Envelope envelope = new MessageCodec(SECRET).open(payload);

    assertEquals(new MessageCodec.Envelope(new Message.Announce(NODE), 7, NOW), envelope);
  }

  @Test
  void unsignedMessageIsRejectedWhenASecretIsSet() {
    String payload = new MessageCodec().encode(new Message.Announce(NODE), 7, NOW);

    assertEquals(Reason.MISSING_SIGNATURE, rejection(payload));
  }

  @Test
  void messageSignedWithAnotherSecretIsRejected() {
    String payload =
        new MessageCodec("another-secret-of-some-length")
            .encode(new Message.Probe("orders", "x"), 1, NOW);

    assertEquals(Reason.BAD_SIGNATURE, rejection(payload));
  }

  @Test
  void alteringAnySignedFieldBreaksTheSignature() throws Exception {
    String payload = signing.encode(new Message.Announce(NODE), 7, NOW);
    for (String field :
        new String[] {"host", "port", "service", "address", "incarnation", "seq", "ts"}) {
      ObjectNode altered = (ObjectNode) JSON.readTree(payload);
      if (altered.get(field).isNumber()) {
        altered.put(field, altered.get(field).longValue() + 1);
      } else {
        altered.put(field, "evil.example");
      }
      assertEquals(Reason.BAD_SIGNATURE, rejection(altered.toString()), "altered " + field);
    }
  }

  @Test
  void statedIntervalIsSignedSoItCanBeNeitherAlteredNorAddedNorRemoved() throws Exception {
    ObjectNode stated =
        (ObjectNode) JSON.readTree(signing.encode(new Message.Announce(NODE, 30_000), 7, NOW));
    assertEquals(
        30_000, ((Message.Announce) signing.open(stated.toString()).message()).intervalMillis());

    ObjectNode altered = stated.deepCopy();
    altered.put("ivl", 3_600_000);
    ObjectNode removed = stated.deepCopy();
    removed.remove("ivl");
    ObjectNode added =
        (ObjectNode) JSON.readTree(signing.encode(new Message.Announce(NODE), 7, NOW));
    added.put("ivl", 3_600_000);

    assertEquals(Reason.BAD_SIGNATURE, rejection(altered.toString()), "altered");
    assertEquals(Reason.BAD_SIGNATURE, rejection(removed.toString()), "removed");
    assertEquals(Reason.BAD_SIGNATURE, rejection(added.toString()), "added");
  }

  @Test
  void signedAnnounceReplayedAsGoodbyeIsRejected() throws Exception {
    ObjectNode asGoodbye =
        (ObjectNode) JSON.readTree(signing.encode(new Message.Announce(NODE), 7, NOW));
    asGoodbye.put("type", "goodbye");

    assertEquals(Reason.BAD_SIGNATURE, rejection(asGoodbye.toString()));
  }

  @Test
  void signedMessageWithoutSequenceNumberIsRejectedAsMissingField() throws Exception {
    ObjectNode payload =
        (ObjectNode) JSON.readTree(signing.encode(new Message.Announce(NODE), 7, NOW));
    payload.remove("seq");

    assertEquals(Reason.MISSING_FIELD, rejection(payload.toString()));
  }

  @Test
  void replayGuardAcceptsGrowingSequenceNumbersWithinTheWindow() throws Exception {
    ReplayGuard guard = new ReplayGuard(30_000);

    guard.check(envelope(1, NOW), NOW);
    guard.check(envelope(2, NOW + 5_000), NOW + 5_000);
    guard.check(envelope(3, NOW + 29_000), NOW);
  }

  @Test
  void replayGuardRejectsAMessageFromOutsideTheWindowEitherWay() {
    ReplayGuard guard = new ReplayGuard(30_000);

    assertEquals(Reason.STALE, guardRejection(guard, envelope(1, NOW - 30_001), NOW));
    assertEquals(Reason.STALE, guardRejection(guard, envelope(1, NOW + 30_001), NOW));
  }

  @Test
  void replayGuardRejectsARepeatedOrOlderSequenceNumberOfTheSameIncarnation() throws Exception {
    ReplayGuard guard = new ReplayGuard(30_000);
    guard.check(envelope(5, NOW), NOW);

    assertEquals(Reason.REPLAYED, guardRejection(guard, envelope(5, NOW), NOW));
    assertEquals(Reason.REPLAYED, guardRejection(guard, envelope(4, NOW), NOW));
  }

  @Test
  void replayGuardKeepsSequenceNumbersPerIncarnation() throws Exception {
    ReplayGuard guard = new ReplayGuard(30_000);
    guard.check(envelope(5, NOW), NOW);

    Announcement restarted =
        new Announcement(NODE.service(), NODE.host(), NODE.port(), NODE.address(), 99, "new");
    guard.check(new MessageCodec.Envelope(new Message.Announce(restarted), 1, NOW), NOW);
  }

  private static MessageCodec.Envelope envelope(long seq, long timestamp) {
    return new MessageCodec.Envelope(new Message.Announce(NODE), seq, timestamp);
  }

  private static Reason guardRejection(
      ReplayGuard guard, MessageCodec.Envelope envelope, long now) {
    return assertThrows(RejectedMessageException.class, () -> guard.check(envelope, now)).reason();
  }

  private Reason rejection(String payload) {
    return assertThrows(RejectedMessageException.class, () -> signing.open(payload)).reason();
  }
}
