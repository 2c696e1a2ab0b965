package io.github.pgdiscovery.core.protocol;

import static io.github.pgdiscovery.core.protocol.MessageCodec.MAX_ADDRESS_LENGTH;
import static io.github.pgdiscovery.core.protocol.MessageCodec.MAX_INCARNATION_LENGTH;
import static io.github.pgdiscovery.core.protocol.MessageCodec.MAX_SERVICE_LENGTH;
import static io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason.INVALID_FIELD;
import static io.github.pgdiscovery.core.protocol.RejectedMessageException.Reason.MISSING_FIELD;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reading a payload's fields, each checked against its bounds: a missing or malformed field is a
 * {@link RejectedMessageException} that names it, never a default or an exception of the JSON
 * library.
 */
final class PayloadFields {

  private PayloadFields() {}

  static String entryText(JsonNode value, int maxLength) throws RejectedMessageException {
    if (value == null
        || !value.isTextual()
        || value.textValue().isEmpty()
        || value.textValue().length() > maxLength) {
      throw new RejectedMessageException(
          INVALID_FIELD, "a roster entry has a text field missing or out of bounds");
    }
    for (int i = 0; i < value.textValue().length(); i++) {
      if (Character.isISOControl(value.textValue().charAt(i))) {
        throw new RejectedMessageException(
            INVALID_FIELD, "a roster entry contains control characters");
      }
    }
    return value.textValue();
  }

  static int smallInt(JsonNode json, String field, int min, int max)
      throws RejectedMessageException {
    JsonNode value = json.get(field);
    if (value == null || value.isNull()) {
      throw new RejectedMessageException(MISSING_FIELD, "missing field '" + field + "'");
    }
    if (!value.isIntegralNumber()
        || !value.canConvertToInt()
        || value.intValue() < min
        || value.intValue() > max) {
      throw new RejectedMessageException(
          INVALID_FIELD, "field '" + field + "' is not an integer from " + min + " to " + max);
    }
    return value.intValue();
  }

  /** An optional true/false; false when absent. */
  static boolean flag(JsonNode json, String field) throws RejectedMessageException {
    JsonNode value = json.get(field);
    if (value == null || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      throw new RejectedMessageException(
          INVALID_FIELD, "field '" + field + "' is not true or false");
    }
    return value.booleanValue();
  }

  static Announcement node(JsonNode json) throws RejectedMessageException {
    String service = service(json);
    String host = text(json, "host", HostNames.MAX_LENGTH);
    if (!HostNames.isValid(host)) {
      throw new RejectedMessageException(
          INVALID_FIELD, "field 'host' is not an IP literal or DNS name");
    }
    JsonNode port = json.get("port");
    if (port == null || port.isNull()) {
      throw new RejectedMessageException(MISSING_FIELD, "missing field 'port'");
    }
    if (!port.isIntegralNumber()
        || !port.canConvertToInt()
        || port.intValue() < 1
        || port.intValue() > 65535) {
      throw new RejectedMessageException(
          INVALID_FIELD, "field 'port' is not an integer from 1 to 65535");
    }
    String address = text(json, "address", MAX_ADDRESS_LENGTH);
    JsonNode uid = json.get("uid");
    if (uid == null || uid.isNull()) {
      throw new RejectedMessageException(MISSING_FIELD, "missing field 'uid'");
    }
    if (!uid.isIntegralNumber() || !uid.canConvertToLong()) {
      throw new RejectedMessageException(INVALID_FIELD, "field 'uid' is not a 64-bit integer");
    }
    String incarnation = text(json, "incarnation", MAX_INCARNATION_LENGTH);
    return new Announcement(service, host, port.intValue(), address, uid.longValue(), incarnation);
  }

  static String service(JsonNode json) throws RejectedMessageException {
    return text(json, "service", MAX_SERVICE_LENGTH);
  }

  /** A non-negative whole number that fits a long; 0 when absent and not required. */
  static long counter(JsonNode json, String field, boolean required)
      throws RejectedMessageException {
    JsonNode value = json.get(field);
    if (value == null || value.isNull()) {
      if (required) {
        throw new RejectedMessageException(MISSING_FIELD, "missing field '" + field + "'");
      }
      return 0;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
      throw new RejectedMessageException(
          INVALID_FIELD, "field '" + field + "' is not a non-negative integer");
    }
    return value.longValue();
  }

  static String text(JsonNode json, String field, int maxLength) throws RejectedMessageException {
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
        throw new RejectedMessageException(
            INVALID_FIELD, "field '" + field + "' contains control characters");
      }
    }
    return text;
  }
}
