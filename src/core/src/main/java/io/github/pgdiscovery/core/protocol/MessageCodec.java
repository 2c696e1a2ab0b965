package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason.INVALID_FIELD;
import static io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason.MISSING_FIELD;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns messages into the JSON payloads sent with {@code pg_notify} and back. Decoding is strict:
 * anything but a well-formed message of a known version and type, with every field present, of the
 * right type and within bounds, is rejected with the reason; so are a key given twice and anything
 * after the JSON object.
 *
 * <p>With a shared secret every message carries an HMAC-SHA256 signature over its canonical content
 * (all fields but the signature, in a fixed order), and messages without a valid one are rejected.
 * Whether a signed message is fresh and not a replay is for {@link ReplayGuard} to say; the codec
 * only reads {@code seq} and {@code ts}.
 *
 * <p>Wire format, version 1:
 *
 * <pre>
 * {"v":1,"type":"announce","service":"orders","host":"10.0.0.5","port":8558,
 *  "address":"akka://orders@10.0.0.5:25520","uid":-4226452422189680915,"incarnation":"3f1c...","ivl":30000,
 *  "seq":12,"ts":1763769600000,
 *  "sig":"..."}
 * {"v":1,"type":"probe","service":"orders","incarnation":"3f1c...","seq":13,"ts":...,"sig":"..."}
 * {"v":1,"type":"goodbye", ...same fields as announce...}
 * {"v":1,"type":"probe","service":"orders","incarnation":"3f1c...","all":true,...}     (the fallback: all answer)
 * {"v":1,"type":"probe","service":"orders","incarnation":"3f1c...","attempt":2,...}   (asked again: two more answer)
 * {"v":1,"type":"roster","service":"orders","incarnation":"(responder)","to":"(prober)","part":0,"parts":3,
 *  "entries":[["10.0.0.5",8558,"akka://orders@10.0.0.5:25520",-4226452422189680915,"3f1c...",90000],...],...}
 * </pre>
 *
 * <p>How later versions stay readable: within version 1 a release may add message types and fields,
 * never change or remove one. A receiver ignores fields it does not know (they are outside the
 * signed content, so they can carry nothing a receiver must trust) and drops, counts and does not
 * warn about types it does not know. A change that old receivers could misread takes a new version,
 * which they reject as {@code UNSUPPORTED_VERSION}.
 *
 * <p>{@code seq} (per-incarnation sequence number) and {@code ts} (sender's clock, epoch
 * milliseconds) are optional without a secret; {@code sig} is present only with one. {@code ivl}
 * (announce only, optional: how often the sender announces itself now, 1 to {@value
 * #MAX_INTERVAL_MILLIS} ms) lets receivers scale that sender's expiry; without it a receiver
 * applies its own {@code expire-after}. When present it is part of the signed content. Not
 * thread-safe when signing: one codec per thread.
 */
public final class MessageCodec {

  public static final int VERSION = 1;

  /** Postgres refuses NOTIFY payloads of 8000 bytes or more; we stay below, rosters included. */
  public static final int MAX_PAYLOAD_BYTES = 7900;

  /**
   * Room left in a roster for its entries: the payload limit less its other fields and the
   * signature.
   */
  private static final int ROSTER_ENTRY_BUDGET = MAX_PAYLOAD_BYTES - 800;

  public static final int MAX_SERVICE_LENGTH = 255;
  public static final int MAX_ADDRESS_LENGTH = 512;
  public static final int MAX_INCARNATION_LENGTH = 64;

  /** The longest heartbeat interval an announcement may state: one hour. */
  public static final long MAX_INTERVAL_MILLIS = 3_600_000;

  /** The longest remaining expiry a roster entry may pass on: three of the longest intervals. */
  public static final long MAX_TTL_MILLIS = 3 * MAX_INTERVAL_MILLIS;

  private static final int SIGNATURE_LENGTH = 43; // 32 bytes, base64url without padding
  private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

  private final ObjectMapper mapper;
  private final Mac mac;

  /** What a payload said, with the sequence number and timestamp it was sent with. */
  public record Envelope(Message message, long seq, long timestampMillis) {}

  /** A codec that neither signs nor checks signatures. */
  public MessageCodec() {
    this(null);
  }

  /**
   * A codec that signs and checks with {@code sharedSecret}, or neither when it is null or empty.
   */
  public MessageCodec(String sharedSecret) {
    // Strict as documented: one value per key, and nothing after the object.
    mapper =
        JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(8)
                .maxStringLength(MAX_PAYLOAD_BYTES)
                .build());
    if (sharedSecret == null || sharedSecret.isEmpty()) {
      mac = null;
    } else {
      try {
        mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(sharedSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
      }
    }
  }

  public boolean signs() {
    return mac != null;
  }

  /**
   * Encodes with sequence number 0 and timestamp 0: for unsigned one-off messages (tests, tools),
   * which nobody checks for freshness. The protocol always passes its own sequence number and the
   * time it was given.
   */
  public String encode(Message message) {
    return encode(message, 0, 0);
  }

  public String encode(Message message, long seq, long timestampMillis) {
    ObjectNode json = mapper.createObjectNode();
    json.put("v", VERSION);
    json.put("type", type(message));
    if (message instanceof Message.Probe probe) {
      json.put("service", probe.service());
      json.put("incarnation", probe.senderIncarnation());
      if (probe.all()) {
        json.put("all", true);
      }
      if (probe.view() != null) {
        json.put("view", probe.view());
      }
      if (probe.attempt() > 0) {
        json.put("attempt", probe.attempt());
      }
    } else if (message instanceof Message.Roster roster) {
      json.put("service", roster.service());
      json.put("incarnation", roster.senderIncarnation());
      json.put("to", roster.to());
      json.put("part", roster.part());
      json.put("parts", roster.parts());
      json.set("entries", entries(roster));
    } else {
      Announcement node = nodeOf(message);
      json.put("service", node.service());
      json.put("host", node.host());
      json.put("port", node.port());
      json.put("address", node.address());
      json.put("uid", node.uid());
      json.put("incarnation", node.incarnation());
      long interval = intervalOf(message);
      if (interval > 0) {
        json.put("ivl", interval);
      }
      if (watched(message)) {
        json.put("watched", true);
      }
    }
    json.put("seq", seq);
    json.put("ts", timestampMillis);
    if (mac != null) {
      json.put("sig", sign(message, seq, timestampMillis));
    }
    String payload = json.toString();
    int bytes = payload.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "message of " + bytes + " bytes exceeds " + MAX_PAYLOAD_BYTES + " bytes");
    }
    return payload;
  }

  /** The message a payload carries; see {@link #open(String)}. */
  public Message decode(String payload) throws RejectedMessageException {
    return open(payload).message();
  }

  /** Decodes and, with a shared secret, checks the signature. */
  public Envelope open(String payload) throws RejectedMessageException {
    if (payload == null
        || payload.length() > MAX_PAYLOAD_BYTES
        || payload.getBytes(StandardCharsets.UTF_8).length > MAX_PAYLOAD_BYTES) {
      throw new RejectedMessageException(
          Reason.TOO_LARGE, "payload larger than " + MAX_PAYLOAD_BYTES + " bytes");
    }
    JsonNode json;
    try {
      json = mapper.readTree(payload);
    } catch (JsonProcessingException e) {
      throw new RejectedMessageException(Reason.NOT_JSON, "not JSON: " + e.getOriginalMessage());
    } catch (RuntimeException e) {
      throw new RejectedMessageException(
          Reason.NOT_JSON, "not JSON: " + e.getClass().getSimpleName());
    }
    if (json == null || !json.isObject()) {
      throw new RejectedMessageException(Reason.NOT_JSON, "not a JSON object");
    }
    JsonNode version = json.get("v");
    if (version == null) {
      throw new RejectedMessageException(MISSING_FIELD, "missing field 'v'");
    }
    if (!version.isIntegralNumber()
        || !version.canConvertToInt()
        || version.intValue() != VERSION) {
      throw new RejectedMessageException(
          Reason.UNSUPPORTED_VERSION, "unsupported version " + version);
    }
    String type = PayloadFields.text(json, "type", 16);
    Message message =
        switch (type) {
          case "announce" -> announce(json);
          case "goodbye" -> new Message.Goodbye(PayloadFields.node(json));
          case "probe" -> probe(json);
          case "roster" -> roster(json);
          default ->
              throw new RejectedMessageException(
                  Reason.UNKNOWN_TYPE, "unknown type '" + type + "'");
        };
    boolean required = mac != null;
    long seq = PayloadFields.counter(json, "seq", required);
    long timestamp = PayloadFields.counter(json, "ts", required);
    if (mac != null) {
      verify(json, message, seq, timestamp);
    }
    return new Envelope(message, seq, timestamp);
  }

  private void verify(JsonNode json, Message message, long seq, long timestamp)
      throws RejectedMessageException {
    JsonNode signature = json.get("sig");
    if (signature == null || signature.isNull()) {
      throw new RejectedMessageException(
          Reason.MISSING_SIGNATURE, "unsigned message, but a shared secret is set");
    }
    if (!signature.isTextual() || signature.textValue().length() != SIGNATURE_LENGTH) {
      throw new RejectedMessageException(Reason.BAD_SIGNATURE, "field 'sig' is not a signature");
    }
    byte[] expected = sign(message, seq, timestamp).getBytes(StandardCharsets.US_ASCII);
    // Constant time: the comparison must not tell a forger how much of a guess was right.
    if (!MessageDigest.isEqual(
        expected, signature.textValue().getBytes(StandardCharsets.US_ASCII))) {
      throw new RejectedMessageException(
          Reason.BAD_SIGNATURE,
          "signature does not match (a different shared secret, or an altered message)");
    }
  }

  /**
   * HMAC over the canonical content: a JSON array of every field but the signature, in a fixed
   * order, so that neither field order nor white space in the payload matters, and no two messages
   * share a content.
   */
  private String sign(Message message, long seq, long timestamp) {
    ArrayNode canonical = mapper.createArrayNode();
    canonical.add(VERSION).add(type(message)).add(message.service());
    if (message instanceof Message.Probe probe) {
      canonical.add(probe.senderIncarnation());
    } else if (message instanceof Message.Roster roster) {
      canonical
          .add(roster.senderIncarnation())
          .add(roster.to())
          .add(roster.part())
          .add(roster.parts())
          .add(entries(roster));
    } else {
      Announcement node = nodeOf(message);
      canonical
          .add(node.host())
          .add(node.port())
          .add(node.address())
          .add(node.uid())
          .add(node.incarnation());
    }
    canonical.add(seq).add(timestamp);
    long interval = intervalOf(message);
    if (interval > 0) {
      // Appended only when stated, so that messages without it sign as they did before the field
      // existed.
      canonical.add(interval);
    }
    if (message instanceof Message.Probe probe && probe.all()) {
      canonical.add(true);
    }
    if (message instanceof Message.Probe probe && probe.view() != null) {
      canonical.add("view").add(probe.view());
    }
    if (message instanceof Message.Probe probe && probe.attempt() > 0) {
      canonical.add("attempt").add(probe.attempt());
    }
    if (watched(message)) {
      canonical.add("watched");
    }
    return BASE64.encodeToString(
        mac.doFinal(canonical.toString().getBytes(StandardCharsets.UTF_8)));
  }

  private static String type(Message message) {
    if (message instanceof Message.Announce) {
      return "announce";
    }
    if (message instanceof Message.Roster) {
      return "roster";
    }
    return message instanceof Message.Goodbye ? "goodbye" : "probe";
  }

  /** A view digest: 22 characters of base64url, no padding (128 bits). */
  static final int VIEW_DIGEST_LENGTH = 22;

  private static Message.Probe probe(JsonNode json) throws RejectedMessageException {
    String service = PayloadFields.service(json);
    String incarnation = PayloadFields.text(json, "incarnation", MAX_INCARNATION_LENGTH);
    boolean all = PayloadFields.flag(json, "all");
    int attempt = attempt(json, all);
    JsonNode view = json.get("view");
    if (view == null || view.isNull()) {
      return new Message.Probe(service, incarnation, all, null, attempt);
    }
    if (all
        || !view.isTextual()
        || view.textValue().length() != VIEW_DIGEST_LENGTH
        || !view.textValue()
            .chars()
            .allMatch(c -> Character.isLetterOrDigit(c) && c < 128 || c == '-' || c == '_')) {
      throw new RejectedMessageException(INVALID_FIELD, "field 'view' is not a view digest");
    }
    return new Message.Probe(service, incarnation, false, view.textValue(), attempt);
  }

  /**
   * A probe's optional {@code attempt}: an integer from 0 to {@link Message.Probe#MAX_ATTEMPT},
   * never with "all".
   */
  private static int attempt(JsonNode json, boolean all) throws RejectedMessageException {
    JsonNode attempt = json.get("attempt");
    if (attempt == null || attempt.isNull()) {
      return 0;
    }
    if (all
        || !attempt.isIntegralNumber()
        || !attempt.canConvertToInt()
        || attempt.intValue() < 0
        || attempt.intValue() > Message.Probe.MAX_ATTEMPT) {
      throw new RejectedMessageException(
          INVALID_FIELD,
          all
              ? "field 'attempt' on a probe of everybody"
              : "field 'attempt' is not a number from 0 to " + Message.Probe.MAX_ATTEMPT);
    }
    return attempt.intValue();
  }

  private static boolean watched(Message message) {
    return message instanceof Message.Announce announce && announce.watched();
  }

  private static Message.Announce announce(JsonNode json) throws RejectedMessageException {
    Announcement node = PayloadFields.node(json);
    long interval = interval(json);
    boolean watched = PayloadFields.flag(json, "watched");
    if (watched && interval != 0) {
      throw new RejectedMessageException(
          INVALID_FIELD, "a watched node's announcement states an interval");
    }
    return new Message.Announce(node, interval, watched);
  }

  private static long intervalOf(Message message) {
    return message instanceof Message.Announce announce ? announce.intervalMillis() : 0;
  }

  /**
   * The optional interval of an announcement: 0 when absent, else 1 to {@link
   * #MAX_INTERVAL_MILLIS}.
   */
  private static long interval(JsonNode json) throws RejectedMessageException {
    JsonNode value = json.get("ivl");
    if (value == null || value.isNull()) {
      return 0;
    }
    if (!value.isIntegralNumber()
        || !value.canConvertToLong()
        || value.longValue() < 1
        || value.longValue() > MAX_INTERVAL_MILLIS) {
      throw new RejectedMessageException(
          INVALID_FIELD,
          "field 'ivl' is not an integer from 1 to " + MAX_INTERVAL_MILLIS + " (milliseconds)");
    }
    return value.longValue();
  }

  /**
   * Splits a responder's view into roster parts that each fit in one notification, in the order
   * given: about 40 to 50 entries a part for typical host names and addresses.
   */
  public List<List<Message.Roster.Entry>> partition(List<Message.Roster.Entry> entries) {
    List<List<Message.Roster.Entry>> parts = new ArrayList<>();
    List<Message.Roster.Entry> part = new ArrayList<>();
    int size = 0;
    for (Message.Roster.Entry entry : entries) {
      int entryBytes = entry(entry).toString().getBytes(StandardCharsets.UTF_8).length + 1;
      if (!part.isEmpty() && size + entryBytes > ROSTER_ENTRY_BUDGET) {
        parts.add(part);
        part = new ArrayList<>();
        size = 0;
      }
      part.add(entry);
      size += entryBytes;
    }
    if (!part.isEmpty() || parts.isEmpty()) {
      parts.add(part);
    }
    return parts;
  }

  private ArrayNode entries(Message.Roster roster) {
    ArrayNode entries = mapper.createArrayNode();
    roster.entries().forEach(entry -> entries.add(entry(entry)));
    return entries;
  }

  /**
   * One entry as [host, port, address, uid, incarnation, ttl (0: watched)]: compact, so that a part
   * holds many.
   */
  private ArrayNode entry(Message.Roster.Entry entry) {
    Announcement node = entry.node();
    return mapper
        .createArrayNode()
        .add(node.host())
        .add(node.port())
        .add(node.address())
        .add(node.uid())
        .add(node.incarnation())
        .add(entry.ttlMillis());
  }

  private static Message.Roster roster(JsonNode json) throws RejectedMessageException {
    String service = PayloadFields.service(json);
    String sender = PayloadFields.text(json, "incarnation", MAX_INCARNATION_LENGTH);
    String to = PayloadFields.text(json, "to", MAX_INCARNATION_LENGTH);
    int parts = PayloadFields.smallInt(json, "parts", 1, 10_000);
    int part = PayloadFields.smallInt(json, "part", 0, parts - 1);
    JsonNode entries = json.get("entries");
    if (entries == null || !entries.isArray()) {
      throw new RejectedMessageException(MISSING_FIELD, "missing array 'entries'");
    }
    List<Message.Roster.Entry> result = new ArrayList<>(entries.size());
    for (JsonNode entry : entries) {
      if (!entry.isArray() || entry.size() != 6) {
        throw new RejectedMessageException(
            INVALID_FIELD,
            "a roster entry is not [host, port, address, uid," + " incarnation, ttl]");
      }
      String host = PayloadFields.entryText(entry.get(0), HostNames.MAX_LENGTH);
      if (!HostNames.isValid(host)) {
        throw new RejectedMessageException(
            INVALID_FIELD, "a roster entry's host is not an IP literal or DNS name");
      }
      JsonNode port = entry.get(1);
      JsonNode uid = entry.get(3);
      JsonNode ttl = entry.get(5);
      if (!port.isIntegralNumber()
          || !port.canConvertToInt()
          || port.intValue() < 1
          || port.intValue() > 65535
          || !uid.isIntegralNumber()
          || !uid.canConvertToLong()
          || !ttl.isIntegralNumber()
          || !ttl.canConvertToLong()
          || ttl.longValue() < 0
          || ttl.longValue() > MAX_TTL_MILLIS) {
        throw new RejectedMessageException(
            INVALID_FIELD, "a roster entry's port, uid or ttl is out of range");
      }
      Announcement node =
          new Announcement(
              service,
              host,
              port.intValue(),
              PayloadFields.entryText(entry.get(2), MAX_ADDRESS_LENGTH),
              uid.longValue(),
              PayloadFields.entryText(entry.get(4), MAX_INCARNATION_LENGTH));
      result.add(new Message.Roster.Entry(node, ttl.longValue()));
    }
    return new Message.Roster(service, sender, to, part, parts, result);
  }

  private static Announcement nodeOf(Message message) {
    return message instanceof Message.Announce announce
        ? announce.node()
        : ((Message.Goodbye) message).node();
  }
}
