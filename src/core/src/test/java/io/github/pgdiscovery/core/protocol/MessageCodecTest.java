package io.github.pgdiscovery.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class MessageCodecTest {

  private static final Announcement ORDERS_NODE =
      new Announcement(
          "orders",
          "10.0.0.5",
          8558,
          "akka://orders@10.0.0.5:25520",
          -4226452422189680915L,
          "3f1c9a7e");

  private final MessageCodec codec = new MessageCodec();

  // ---------------------------------------------------------------------------------------------------------------
  // Round trips

  static Stream<Arguments> messages() {
    Announcement ipv6 =
        new Announcement(
            "orders", "2001:db8::17", 8558, "akka://orders@[2001:db8::17]:25520", 2, "inc-ipv6");
    Announcement dns =
        new Announcement(
            "orders",
            "orders-1.orders.default.svc.cluster.local",
            8558,
            "akka://orders@orders-1.orders.default.svc.cluster.local:25520",
            3,
            "inc-dns");
    Announcement unicodeService =
        new Announcement(
            "bestellungen-größe",
            "node-2",
            1,
            "akka://x@node-2:65535",
            Long.MIN_VALUE,
            "inc-unicode");
    return Stream.of(
        Arguments.of("announce, IPv4 host", new Message.Announce(ORDERS_NODE)),
        Arguments.of("announce stating its interval", new Message.Announce(ORDERS_NODE, 30_000)),
        Arguments.of(
            "announce stating the longest interval",
            new Message.Announce(ORDERS_NODE, MessageCodec.MAX_INTERVAL_MILLIS)),
        Arguments.of("announce, IPv6 host", new Message.Announce(ipv6)),
        Arguments.of("announce, DNS host", new Message.Announce(dns)),
        Arguments.of("announce, non-ASCII service", new Message.Announce(unicodeService)),
        Arguments.of("probe", new Message.Probe("orders", "3f1c9a7e")),
        Arguments.of("probe asked again", new Message.Probe("orders", "3f1c9a7e", false, null, 3)),
        Arguments.of("goodbye, IPv4 host", new Message.Goodbye(ORDERS_NODE)),
        Arguments.of("goodbye, IPv6 host", new Message.Goodbye(ipv6)),
        Arguments.of("goodbye, DNS host", new Message.Goodbye(dns)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("messages")
  void decodingAnEncodedMessageGivesBackAnEqualMessage(String description, Message message)
      throws Exception {
    assertEquals(message, codec.decode(codec.encode(message)));
  }

  @Test
  void encodedAnnounceFollowsWireFormatVersionOne() throws Exception {
    String payload = codec.encode(new Message.Announce(ORDERS_NODE), 12, 1763769600000L);

    assertSameJson(
        "{\"v\":1,\"type\":\"announce\",\"service\":\"orders\",\"host\":\"10.0.0.5\",\"port\":8558,"
            + "\"address\":\"akka://orders@10.0.0.5:25520\",\"uid\":-4226452422189680915,\"incarnation\":\"3f1c9a7e\",\"seq\":12,"
            + "\"ts\":1763769600000}",
        payload);
  }

  @Test
  void announceStatingItsIntervalCarriesItAsIvlInMilliseconds() throws Exception {
    String payload = codec.encode(new Message.Announce(ORDERS_NODE, 30_000), 12, 1763769600000L);

    assertSameJson(
        "{\"v\":1,\"type\":\"announce\",\"service\":\"orders\",\"host\":\"10.0.0.5\",\"port\":8558,"
            + "\"address\":\"akka://orders@10.0.0.5:25520\",\"uid\":-4226452422189680915,\"incarnation\":\"3f1c9a7e\",\"ivl\":30000,"
            + "\"seq\":12,\"ts\":1763769600000}",
        payload);
  }

  @Test
  void announceWithoutIvlIsDecodedAsNotStatingAnInterval() throws Exception {
    Message message = codec.decode(json(announceFields()));

    assertEquals(0, ((Message.Announce) message).intervalMillis());
  }

  @ParameterizedTest(name = "ivl = {0}")
  @ValueSource(
      strings = {
        "0",
        "-1",
        "3600001",
        "99999999999999999999",
        "1.5",
        "\"30000\"",
        "true",
        "[30000]"
      })
  void announceWithIvlNotFromOneMillisecondToOneHourIsRejectedAsInvalidField(String interval) {
    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith("ivl", interval)));
  }

  @Test
  void encodedProbeFollowsWireFormatVersionOne() throws Exception {
    String payload = codec.encode(new Message.Probe("orders", "3f1c9a7e"), 13, 1763769600001L);

    assertSameJson(
        "{\"v\":1,\"type\":\"probe\",\"service\":\"orders\",\"incarnation\":\"3f1c9a7e\","
            + "\"seq\":13,\"ts\":1763769600001}",
        payload);
  }

  @Test
  void goodbyeIsEncodedWithItsOwnTypeAndDecodedAsGoodbye() throws Exception {
    String payload = codec.encode(new Message.Goodbye(ORDERS_NODE));

    assertEquals("goodbye", new ObjectMapper().readTree(payload).get("type").textValue());
    assertEquals(new Message.Goodbye(ORDERS_NODE), codec.decode(payload));
  }

  @Test
  void announcementWithEveryFieldAtItsMaximumLengthFitsInOnePayload() throws Exception {
    String label = "a".repeat(63);
    String host = label + "." + label + "." + label + "." + "b".repeat(61);
    Announcement largest =
        new Announcement(
            "ü".repeat(MessageCodec.MAX_SERVICE_LENGTH),
            host,
            65535,
            "€".repeat(MessageCodec.MAX_ADDRESS_LENGTH),
            Long.MIN_VALUE,
            "€".repeat(MessageCodec.MAX_INCARNATION_LENGTH));
    assertEquals(HostNames.MAX_LENGTH, host.length());

    assertEquals(
        new Message.Announce(largest), codec.decode(codec.encode(new Message.Announce(largest))));
  }

  @Test
  void encodeRefusesAnAnnouncementWhosePayloadWouldExceedTheLimit() {
    Announcement huge =
        new Announcement("orders", "10.0.0.5", 8558, "a".repeat(9000), 0, "3f1c9a7e");

    assertThrows(IllegalArgumentException.class, () -> codec.encode(new Message.Announce(huge)));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Size

  @Test
  void payloadOneByteOverTheLimitIsRejectedAsTooLarge() {
    String payload = padded(announce(), MessageCodec.MAX_PAYLOAD_BYTES + 1);

    assertEquals(Reason.TOO_LARGE, rejectionOf(payload));
  }

  @Test
  void payloadWithinTheCharacterLimitButOverTheByteLimitIsRejectedAsTooLarge() {
    // 4000 two-byte characters: fewer characters than the limit, more bytes.
    String payload = announceWith("address", quoted("é".repeat(4000)));
    assertTrue(payload.length() < MessageCodec.MAX_PAYLOAD_BYTES);

    assertEquals(Reason.TOO_LARGE, rejectionOf(payload));
  }

  @Test
  void payloadOfExactlyTheLimitIsDecoded() throws Exception {
    String payload = padded(announce(), MessageCodec.MAX_PAYLOAD_BYTES);

    assertEquals(new Message.Announce(ORDERS_NODE), codec.decode(payload));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Not a JSON object

  @ParameterizedTest(name = "payload = [{0}]")
  @ValueSource(
      strings = {
        "",
        "hello",
        "{\"v\":1,\"type\":\"announce\"",
        "{v:1}",
        "[1,2,3]",
        "[]",
        "\"announce\"",
        "42",
        "null",
        "{\"v\":1,\"x\":[[[[[[[[[[1]]]]]]]]]]}"
      })
  void payloadThatIsNotAJsonObjectIsRejectedAsNotJson(String payload) {
    assertEquals(Reason.NOT_JSON, rejectionOf(payload));
  }

  @Test
  void rawControlCharacterInsideAJsonStringIsRejectedAsNotJson() {
    String payload = announceWith("service", "\"ord\u0001ers\"");

    assertEquals(Reason.NOT_JSON, rejectionOf(payload));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Version and type

  @Test
  void payloadWithoutVersionIsRejectedAsMissingField() {
    assertEquals(Reason.MISSING_FIELD, rejectionOf(announceWithout("v")));
  }

  @ParameterizedTest(name = "v = {0}")
  @ValueSource(
      strings = {"2", "0", "-1", "\"1\"", "1.0", "1.5", "null", "true", "{}", "4294967297"})
  void payloadOfAnotherVersionIsRejectedAsUnsupportedVersion(String version) {
    assertEquals(Reason.UNSUPPORTED_VERSION, rejectionOf(announceWith("v", version)));
  }

  @ParameterizedTest(name = "type = {0}")
  @ValueSource(
      strings = {"\"hello\"", "\"Announce\"", "\"ANNOUNCE\"", "\"announce \"", "\"probe2\""})
  void payloadOfUnknownTypeIsRejectedAsUnknownType(String type) {
    assertEquals(Reason.UNKNOWN_TYPE, rejectionOf(announceWith("type", type)));
  }

  @Test
  void payloadWithoutTypeIsRejectedAsMissingField() {
    assertEquals(Reason.MISSING_FIELD, rejectionOf(announceWithout("type")));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Missing and ill-typed fields

  @ParameterizedTest(name = "without {0}")
  @ValueSource(strings = {"service", "host", "port", "address", "uid", "incarnation"})
  void announceWithoutAFieldIsRejectedAsMissingField(String field) {
    assertEquals(Reason.MISSING_FIELD, rejectionOf(announceWithout(field)));
  }

  @ParameterizedTest(name = "without {0}")
  @ValueSource(strings = {"service", "host", "port", "address", "uid", "incarnation"})
  void goodbyeWithoutAFieldIsRejectedAsMissingField(String field) {
    Map<String, String> fields = announceFields();
    fields.put("type", quoted("goodbye"));
    fields.remove(field);

    assertEquals(Reason.MISSING_FIELD, rejectionOf(json(fields)));
  }

  @ParameterizedTest(name = "without {0}")
  @ValueSource(strings = {"service", "incarnation"})
  void probeWithoutAFieldIsRejectedAsMissingField(String field) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("v", "1");
    fields.put("type", quoted("probe"));
    fields.put("service", quoted("orders"));
    fields.put("incarnation", quoted("3f1c9a7e"));
    fields.remove(field);

    assertEquals(Reason.MISSING_FIELD, rejectionOf(json(fields)));
  }

  @ParameterizedTest(name = "{0} = null")
  @ValueSource(strings = {"service", "host", "address", "incarnation"})
  void announceWithANullTextFieldIsRejectedAsMissingField(String field) {
    assertEquals(Reason.MISSING_FIELD, rejectionOf(announceWith(field, "null")));
  }

  static Stream<Arguments> illTypedFields() {
    return Stream.of(
        Arguments.of("port", "\"8558\""),
        Arguments.of("port", "true"),
        Arguments.of("port", "[8558]"),
        Arguments.of("host", "10"),
        Arguments.of("host", "{\"ip\":\"10.0.0.5\"}"),
        Arguments.of("service", "42"),
        Arguments.of("service", "[\"orders\"]"),
        Arguments.of("address", "false"),
        Arguments.of("uid", "\"12\""),
        Arguments.of("uid", "1.5"),
        Arguments.of("uid", "18446744073709551616"),
        Arguments.of("incarnation", "7"),
        Arguments.of("type", "1"));
  }

  @Test
  void aRosterRoundTripsWithEveryEntryAndItsTtl() throws Exception {
    List<Message.Roster.Entry> entries =
        List.of(
            new Message.Roster.Entry(ORDERS_NODE, 90_000),
            new Message.Roster.Entry(
                new Announcement(
                    "orders", "2001:db8::9", 8559, "akka://orders@[2001:db8::9]:1", -7, "inc-9"),
                1));
    Message.Roster roster = new Message.Roster("orders", "responder-1", "prober-1", 1, 3, entries);

    assertEquals(roster, codec.decode(codec.encode(roster)));
    MessageCodec signing = new MessageCodec("0123456789abcdef-secret");
    assertEquals(roster, signing.decode(signing.encode(roster, 5, 1763769600000L)));
  }

  @Test
  void aSignedRosterWithAnAlteredEntryFailsItsSignature() throws Exception {
    MessageCodec signing = new MessageCodec("0123456789abcdef-secret");
    String payload =
        signing.encode(
            new Message.Roster(
                "orders", "r", "p", 0, 1, List.of(new Message.Roster.Entry(ORDERS_NODE, 90_000))),
            5,
            1763769600000L);
    // A stranger who cannot sign tries to vouch for an endpoint of its own.
    String altered = payload.replace("10.0.0.5", "10.6.6.6");

    RejectedMessageException e =
        assertThrows(RejectedMessageException.class, () -> signing.open(altered));
    assertEquals(Reason.BAD_SIGNATURE, e.reason());
  }

  @ParameterizedTest(name = "entries = {0}")
  @ValueSource(
      strings = {
        "[[\"10.0.0.5\",8558,\"a\",1,\"i\"]]",
        "[[\"10.0.0.5\",0,\"a\",1,\"i\",5]]",
        "[[\"10.0.0.5\",8558,\"a\",1,\"i\",-1]]",
        "[[\"not a host!\",8558,\"a\",1,\"i\",5]]",
        "{}",
        "[[\"10.0.0.5\",8558,\"\",1,\"i\",5]]"
      })
  void aRosterWithAMalformedEntryIsRejectedAsInvalidField(String entries) {
    String payload =
        "{\"v\":1,\"type\":\"roster\",\"service\":\"orders\",\"incarnation\":\"r\",\"to\":\"p\","
            + "\"part\":0,\"parts\":1,\"entries\":"
            + entries
            + "}";

    Reason reason = rejectionOf(payload);
    assertTrue(reason == Reason.INVALID_FIELD || reason == Reason.MISSING_FIELD, reason::toString);
  }

  @Test
  void aViewOfAThousandNodesIsPartitionedIntoPartsThatEachFitOneNotification() {
    List<Message.Roster.Entry> entries = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      entries.add(
          new Message.Roster.Entry(
              new Announcement(
                  "orders",
                  "10.1." + (i / 250) + "." + (i % 250),
                  8558,
                  "akka://orders@10.1." + (i / 250) + "." + (i % 250) + ":25520",
                  4226452422189680915L - i,
                  java.util.UUID.randomUUID().toString()),
              90_000));
    }

    List<List<Message.Roster.Entry>> parts = codec.partition(entries);

    assertEquals(1000, parts.stream().mapToInt(List::size).sum());
    assertTrue(
        parts.size() <= 25,
        "at least 40 entries a part (the join-cost bound's m): " + parts.size());
    for (int i = 0; i < parts.size(); i++) {
      String payload =
          new MessageCodec("0123456789abcdef-secret")
              .encode(
                  new Message.Roster("orders", UUID36, UUID36, i, parts.size(), parts.get(i)),
                  Long.MAX_VALUE,
                  Long.MAX_VALUE);
      int bytes = payload.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      assertTrue(bytes <= MessageCodec.MAX_PAYLOAD_BYTES, "part " + i + " has " + bytes + " bytes");
      assertTrue(
          i == parts.size() - 1 || bytes > MessageCodec.MAX_PAYLOAD_BYTES - 1000,
          "every part but the last is filled: part " + i + " has " + bytes + " bytes");
    }
  }

  private static final String UUID36 = "3f1c9a7e-0000-4000-8000-000000000000";

  @Test
  void fieldsALaterReleaseMayAddAreIgnored() throws Exception {
    String withFutureFields = announceWith("zone", quoted("eu-west-1"));
    withFutureFields =
        withFutureFields.substring(0, withFutureFields.length() - 1)
            + ",\"weights\":[1,2,{\"a\":3}]}";

    assertEquals(
        ORDERS_NODE, ((Message.Announce) new MessageCodec().decode(withFutureFields)).node());
  }

  @Test
  void aSignedMessageWithAFieldALaterReleaseAddedStillVerifies() throws Exception {
    MessageCodec signing = new MessageCodec("0123456789abcdef-secret");
    String payload = signing.encode(new Message.Announce(ORDERS_NODE), 3, 1763769600000L);
    String withFutureField =
        payload.substring(0, payload.length() - 1) + ",\"zone\":\"eu-west-1\"}";

    assertEquals(ORDERS_NODE, ((Message.Announce) signing.decode(withFutureField)).node());
  }

  @Test
  void aTypeThisVersionDoesNotKnowIsCountedButNotWarnedAbout() {
    assertEquals(Reason.UNKNOWN_TYPE, rejectionOf(announceWith("type", quoted("gossip"))));
    assertFalse(Reason.UNKNOWN_TYPE.warns());
    assertTrue(Reason.UNSUPPORTED_VERSION.warns());
  }

  @ParameterizedTest(name = "duplicate {0}")
  @ValueSource(strings = {"host", "port", "service", "type"})
  void payloadGivingAKeyTwiceIsRejected(String field) {
    // Two values for one key: a checker and a reader that took different ones could disagree about
    // the message.
    String payload = announce();
    String duplicated =
        payload.substring(0, payload.length() - 1)
            + ",\""
            + field
            + "\":"
            + announceFields().get(field)
            + "}";

    assertEquals(Reason.NOT_JSON, rejectionOf(duplicated));
  }

  @ParameterizedTest(name = "followed by [{0}]")
  @ValueSource(strings = {" {}", "x", " 1", "]", "{\"v\":1}"})
  void payloadWithAnythingAfterTheObjectIsRejected(String trailer) {
    assertEquals(Reason.NOT_JSON, rejectionOf(announce() + trailer));
  }

  @Test
  void payloadWithTrailingWhiteSpaceIsStillAMessage() throws Exception {
    assertEquals(
        ORDERS_NODE, ((Message.Announce) new MessageCodec().decode(announce() + " \n")).node());
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("illTypedFields")
  void announceWithAFieldOfTheWrongTypeIsRejectedAsInvalidField(String field, String rawValue) {
    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith(field, rawValue)));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Bounds

  @ParameterizedTest(name = "port = {0}")
  @ValueSource(strings = {"0", "-1", "65536", "99999999999", "1e20", "8558.0", "8558.5"})
  void announceWithPortOutsideOneTo65535IsRejectedAsInvalidField(String port) {
    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith("port", port)));
  }

  @ParameterizedTest(name = "port = {0}")
  @ValueSource(ints = {1, 65535})
  void announceWithPortAtEitherEndOfTheRangeIsDecoded(int port) throws Exception {
    Message decoded = codec.decode(announceWith("port", Integer.toString(port)));

    assertEquals(port, ((Message.Announce) decoded).node().port());
  }

  @Test
  void announceWithEmptyServiceIsRejectedAsInvalidField() {
    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith("service", quoted(""))));
  }

  @Test
  void announceWithServiceLongerThanTheMaximumIsRejectedAsInvalidField() {
    String service = "s".repeat(MessageCodec.MAX_SERVICE_LENGTH + 1);

    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith("service", quoted(service))));
  }

  @Test
  void announceWithServiceOfExactlyTheMaximumLengthIsDecoded() throws Exception {
    String service = "s".repeat(MessageCodec.MAX_SERVICE_LENGTH);

    assertEquals(service, codec.decode(announceWith("service", quoted(service))).service());
  }

  @Test
  void announceWithAddressLongerThanTheMaximumIsRejectedAsInvalidField() {
    String address = "a".repeat(MessageCodec.MAX_ADDRESS_LENGTH + 1);

    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith("address", quoted(address))));
  }

  @Test
  void announceWithIncarnationLongerThanTheMaximumIsRejectedAsInvalidField() {
    String incarnation = "i".repeat(MessageCodec.MAX_INCARNATION_LENGTH + 1);

    assertEquals(
        Reason.INVALID_FIELD, rejectionOf(announceWith("incarnation", quoted(incarnation))));
  }

  @ParameterizedTest(name = "host = \"{0}\"")
  @ValueSource(
      strings = {
        "",
        "a b",
        "evil;drop",
        "999.1.1.1",
        "1.2.3",
        "-node",
        "node-",
        "a..b",
        ".",
        "node/1",
        "user@node",
        "node:8558",
        "http://node"
      })
  void announceWithHostThatIsNeitherIpLiteralNorDnsNameIsRejectedAsInvalidField(String host) {
    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith("host", quoted(host))));
  }

  @Test
  void announceWithHostLongerThanADnsNameIsRejectedAsInvalidField() {
    String label = "a".repeat(63);
    String host = label + "." + label + "." + label + "." + "b".repeat(62);
    assertEquals(HostNames.MAX_LENGTH + 1, host.length());

    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith("host", quoted(host))));
  }

  @ParameterizedTest(name = "host = {0}")
  @ValueSource(
      strings = {
        "10.0.0.5",
        "::1",
        "2001:db8::17",
        "[2001:db8::17]",
        "localhost",
        "node_1.local",
        "node."
      })
  void announceWithIpLiteralOrDnsNameHostIsDecoded(String host) throws Exception {
    Message decoded = codec.decode(announceWith("host", quoted(host)));

    assertEquals(host, ((Message.Announce) decoded).node().host());
  }

  static Stream<Arguments> controlCharacters() {
    return Stream.of(
        Arguments.of("service", "ord\\u0000ers"),
        Arguments.of("service", "orders\\n"),
        Arguments.of("host", "node\\r1"),
        Arguments.of("address", "akka://orders@node:25520\\u001b[2J"),
        Arguments.of("address", "akka://orders@node:25520\\u0085"),
        Arguments.of("incarnation", "3f1c\\t9a7e"),
        Arguments.of("incarnation", "3f1c\\u007f"));
  }

  @ParameterizedTest(name = "{0} = \"{1}\"")
  @MethodSource("controlCharacters")
  void announceWithAControlCharacterInAFieldIsRejectedAsInvalidField(
      String field, String escapedValue) {
    assertEquals(Reason.INVALID_FIELD, rejectionOf(announceWith(field, quoted(escapedValue))));
  }

  @Test
  void aProbeAskedAgainStatesItsAttemptAndAFirstOneLeavesItOut() throws Exception {
    assertSameJson(
        "{\"v\":1,\"type\":\"probe\",\"service\":\"orders\",\"incarnation\":\"3f1c9a7e\",\"attempt\":2,"
            + "\"seq\":13,\"ts\":1763769600001}",
        codec.encode(new Message.Probe("orders", "3f1c9a7e", false, null, 2), 13, 1763769600001L));
    assertFalse(codec.encode(new Message.Probe("orders", "3f1c9a7e")).contains("attempt"));
  }

  @ParameterizedTest(name = "attempt = {0}")
  @ValueSource(strings = {"-1", "1001", "\"2\"", "1.5", "2147483648"})
  void aProbeWithAnAttemptOutOfRangeIsRejectedAsInvalidField(String attempt) {
    String payload =
        "{\"v\":1,\"type\":\"probe\",\"service\":\"orders\",\"incarnation\":\"3f1c\",\"attempt\":"
            + attempt
            + "}";

    assertEquals(Reason.INVALID_FIELD, rejectionOf(payload));
  }

  @Test
  void aProbeOfEverybodyWithAnAttemptIsRejectedAsInvalidField() {
    String payload =
        "{\"v\":1,\"type\":\"probe\",\"service\":\"orders\",\"incarnation\":\"3f1c\",\"all\":true,"
            + "\"attempt\":1}";

    assertEquals(Reason.INVALID_FIELD, rejectionOf(payload));
  }

  @Test
  void aSignedProbeWhoseAttemptWasAlteredFailsItsSignature() {
    MessageCodec signing = new MessageCodec("0123456789abcdef-secret");
    String payload =
        signing.encode(new Message.Probe("orders", "p", false, null, 1), 5, 1763769600000L);
    // Somebody on the channel tries to make other members answer a newcomer's probe.
    String altered = payload.replace("\"attempt\":1", "\"attempt\":7");

    RejectedMessageException e =
        assertThrows(RejectedMessageException.class, () -> signing.open(altered));
    assertEquals(Reason.BAD_SIGNATURE, e.reason());
  }

  @Test
  void probeWithAControlCharacterInItsIncarnationIsRejectedAsInvalidField() {
    String payload =
        "{\"v\":1,\"type\":\"probe\",\"service\":\"orders\",\"incarnation\":\"3f1c\\u0007\"}";

    assertEquals(Reason.INVALID_FIELD, rejectionOf(payload));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Helpers

  /** Compares as JSON trees, so the order of the fields does not matter. */
  private static void assertSameJson(String expected, String actual) throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    assertEquals(mapper.readTree(expected), mapper.readTree(actual));
  }

  private Reason rejectionOf(String payload) {
    return assertThrows(RejectedMessageException.class, () -> codec.decode(payload)).reason();
  }

  /** The fields of a valid announce of {@link #ORDERS_NODE}, as raw JSON values in wire order. */
  private static Map<String, String> announceFields() {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("v", "1");
    fields.put("type", quoted("announce"));
    fields.put("service", quoted(ORDERS_NODE.service()));
    fields.put("host", quoted(ORDERS_NODE.host()));
    fields.put("port", Integer.toString(ORDERS_NODE.port()));
    fields.put("address", quoted(ORDERS_NODE.address()));
    fields.put("uid", Long.toString(ORDERS_NODE.uid()));
    fields.put("incarnation", quoted(ORDERS_NODE.incarnation()));
    return fields;
  }

  private static String announce() {
    return json(announceFields());
  }

  private static String announceWith(String field, String rawValue) {
    Map<String, String> fields = announceFields();
    fields.put(field, rawValue);
    return json(fields);
  }

  private static String announceWithout(String field) {
    Map<String, String> fields = announceFields();
    fields.remove(field);
    return json(fields);
  }

  private static String json(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(field -> quoted(field.getKey()) + ":" + field.getValue())
        .collect(Collectors.joining(",", "{", "}"));
  }

  /** A JSON string literal; {@code text} is inserted as is, so JSON escapes in it stay escapes. */
  private static String quoted(String text) {
    return "\"" + text + "\"";
  }

  /**
   * {@code payload} followed by spaces (insignificant JSON whitespace) up to exactly {@code bytes}
   * UTF-8 bytes.
   */
  private static String padded(String payload, int bytes) {
    int length = payload.getBytes(StandardCharsets.UTF_8).length;
    return payload + " ".repeat(bytes - length);
  }
}
