package io.github.pgdiscovery.core;

import static io.github.pgdiscovery.core.RejectedMessageException.Reason.INVALID_FIELD;
import static io.github.pgdiscovery.core.RejectedMessageException.Reason.MISSING_FIELD;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pgdiscovery.core.RejectedMessageException.Reason;
import java.nio.charset.StandardCharsets;

/**
 * Turns messages into the JSON payloads sent with {@code pg_notify} and back. Decoding is strict: anything but a
 * well-formed message of a known version and type, with every field present, of the right type and within bounds,
 * is rejected with the reason.
 *
 * <p>Wire format, version 1:
 *
 * <pre>
 * {"v":1,"type":"announce","service":"orders","host":"10.0.0.5","port":8558,
 *  "address":"akka://orders@10.0.0.5:25520","incarnation":"3f1c..."}
 * {"v":1,"type":"probe","service":"orders","incarnation":"3f1c..."}
 * {"v":1,"type":"goodbye", ...same fields as announce...}
 * </pre>
 */
public final class MessageCodec {

  public static final int VERSION = 1;

  /** Postgres refuses NOTIFY payloads of 8000 bytes or more; we stay well below. */
  public static final int MAX_PAYLOAD_BYTES = 4000;

  public static final int MAX_SERVICE_LENGTH = 255;
  public static final int MAX_ADDRESS_LENGTH = 512;
  public static final int MAX_INCARNATION_LENGTH = 64;

  private final ObjectMapper mapper;

  public MessageCodec() {
    mapper = new ObjectMapper();
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(8).maxStringLength(MAX_PAYLOAD_BYTES).build());
  }

  public String encode(Message message) {
    ObjectNode json = mapper.createObjectNode();
    json.put("v", VERSION);
    if (message instanceof Message.Announce announce) {
      json.put("type", "announce");
      putNode(json, announce.node());
    } else if (message instanceof Message.Goodbye goodbye) {
      json.put("type", "goodbye");
      putNode(json, goodbye.node());
    } else if (message instanceof Message.Probe probe) {
      json.put("type", "probe");
      json.put("service", probe.service());
      json.put("incarnation", probe.senderIncarnation());
    }
    String payload = json.toString();
    if (payload.getBytes(StandardCharsets.UTF_8).length > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "message of " + payload.getBytes(StandardCharsets.UTF_8).length + " bytes exceeds " + MAX_PAYLOAD_BYTES + " bytes");
    }
    return payload;
  }

  public Message decode(String payload) throws RejectedMessageException {
    if (payload == null || payload.length() > MAX_PAYLOAD_BYTES
        || payload.getBytes(StandardCharsets.UTF_8).length > MAX_PAYLOAD_BYTES) {
      throw new RejectedMessageException(Reason.TOO_LARGE, "payload larger than " + MAX_PAYLOAD_BYTES + " bytes");
    }
    JsonNode json;
    try {
      json = mapper.readTree(payload);
    } catch (JsonProcessingException e) {
      throw new RejectedMessageException(Reason.NOT_JSON, "not JSON: " + e.getOriginalMessage());
    } catch (RuntimeException e) {
      throw new RejectedMessageException(Reason.NOT_JSON, "not JSON: " + e.getClass().getSimpleName());
    }
    if (json == null || !json.isObject()) {
      throw new RejectedMessageException(Reason.NOT_JSON, "not a JSON object");
    }
    JsonNode version = json.get("v");
    if (version == null) {
      throw new RejectedMessageException(MISSING_FIELD, "missing field 'v'");
    }
    if (!version.isIntegralNumber() || !version.canConvertToInt() || version.intValue() != VERSION) {
      throw new RejectedMessageException(Reason.UNSUPPORTED_VERSION, "unsupported version " + version);
    }
    String type = text(json, "type", 16);
    return switch (type) {
      case "announce" -> new Message.Announce(node(json));
      case "goodbye" -> new Message.Goodbye(node(json));
      case "probe" -> new Message.Probe(service(json), text(json, "incarnation", MAX_INCARNATION_LENGTH));
      default -> throw new RejectedMessageException(Reason.UNKNOWN_TYPE, "unknown type '" + type + "'");
    };
  }

  private static void putNode(ObjectNode json, Announcement node) {
    json.put("service", node.service());
    json.put("host", node.host());
    json.put("port", node.port());
    json.put("address", node.akkaAddress());
    json.put("incarnation", node.incarnation());
  }

  private static Announcement node(JsonNode json) throws RejectedMessageException {
    String service = service(json);
    String host = text(json, "host", HostNames.MAX_LENGTH);
    if (!HostNames.isValid(host)) {
      throw new RejectedMessageException(INVALID_FIELD, "field 'host' is not an IP literal or DNS name");
    }
    JsonNode port = json.get("port");
    if (port == null || port.isNull()) {
      throw new RejectedMessageException(MISSING_FIELD, "missing field 'port'");
    }
    if (!port.isIntegralNumber() || !port.canConvertToInt() || port.intValue() < 1 || port.intValue() > 65535) {
      throw new RejectedMessageException(INVALID_FIELD, "field 'port' is not an integer from 1 to 65535");
    }
    String address = text(json, "address", MAX_ADDRESS_LENGTH);
    String incarnation = text(json, "incarnation", MAX_INCARNATION_LENGTH);
    return new Announcement(service, host, port.intValue(), address, incarnation);
  }

  private static String service(JsonNode json) throws RejectedMessageException {
    return text(json, "service", MAX_SERVICE_LENGTH);
  }

  private static String text(JsonNode json, String field, int maxLength) throws RejectedMessageException {
    JsonNode value = json.get(field);
    if (value == null || value.isNull()) {
      throw new RejectedMessageException(MISSING_FIELD, "missing field '" + field + "'");
    }
    if (!value.isTextual()) {
      throw new RejectedMessageException(INVALID_FIELD, "field '" + field + "' is not a string");
    }
    String text = value.textValue();
    if (text.isEmpty() || text.length() > maxLength) {
      throw new RejectedMessageException(
          INVALID_FIELD, "field '" + field + "' must have 1 to " + maxLength + " characters");
    }
    for (int i = 0; i < text.length(); i++) {
      if (Character.isISOControl(text.charAt(i))) {
        throw new RejectedMessageException(INVALID_FIELD, "field '" + field + "' contains control characters");
      }
    }
    return text;
  }
}
