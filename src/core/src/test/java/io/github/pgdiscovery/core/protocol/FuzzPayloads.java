package io.github.pgdiscovery.core.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Generates distinct hostile payloads for the channel: random text, truncated and mutated messages,
 * wrong types, huge numbers, odd unicode, injection strings. Every one of them must be rejected by
 * a node whose shared secret the generator does not know: the well-formed messages it starts from
 * are signed with another secret, or not at all. Distinct, because PostgreSQL delivers identical
 * payloads sent in one transaction only once.
 */
public final class FuzzPayloads {

  /** PostgreSQL refuses a payload of 8000 bytes or more. */
  private static final int MAX_NOTIFY_BYTES = 7999;

  private static final String[] INJECTIONS = {
    "'; DROP TABLE users; --",
    "\"; LISTEN other; --",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%s%s%s%n",
    "\\u0000",
    "akka://evil@127.0.0.1:1",
    "$(reboot)",
    "' OR '1'='1",
  };
  private static final String[] ODD_TEXT = {
    "\u202Eevil",
    "é\u0301\u0301",
    "😀😀😀",
    "日本語のホスト",
    "ﬁ",
    "\u00A0",
    "Ω≈ç√∫",
    "\uFEFFbom",
    "İstanbul",
    "\u2028",
  };
  private static final String[] FIELDS = {
    "v", "type", "service", "host", "port", "address", "incarnation", "seq", "ts", "sig"
  };

  private final Random random;
  private final ObjectMapper json = new ObjectMapper();
  private final List<String> seeds;

  /**
   * The same seed gives the same payloads, but for the timestamps inside the messages they start
   * from: those are the current time, so that they stay fresh and the node has to reject them for
   * their signature or shape.
   */
  public FuzzPayloads(long seed) {
    random = new Random(seed);
    Announcement node =
        new Announcement("fuzzed", "10.9.8.7", 8558, "akka://fuzzed@10.9.8.7:25520", 7, "fuzz-1");
    MessageCodec foreign = new MessageCodec("a-secret-the-node-under-test-does-not-know");
    MessageCodec unsigned = new MessageCodec();
    long now = System.currentTimeMillis();
    seeds =
        List.of(
            foreign.encode(new Message.Announce(node), 1, now),
            foreign.encode(new Message.Probe("fuzzed", "fuzz-1"), 2, now),
            foreign.encode(new Message.Goodbye(node), 3, now),
            unsigned.encode(new Message.Announce(node), 4, now),
            unsigned.encode(new Message.Goodbye(node), 5, now));
  }

  public List<String> generate(int count) {
    Set<String> payloads = new LinkedHashSet<>();
    payloads.addAll(seeds);
    while (payloads.size() < count) {
      String payload =
          switch (random.nextInt(8)) {
            case 0 -> randomText(1 + random.nextInt(200));
            case 1 -> truncated();
            case 2 -> mutated();
            case 3 -> wrongType();
            case 4 -> hugeNumber();
            case 5 -> withField(pick(FIELDS), "\"" + pick(ODD_TEXT) + random.nextInt(1000) + "\"");
            case 6 -> withField(pick(FIELDS), jsonString(pick(INJECTIONS) + random.nextInt(1000)));
            default -> oversized();
          };
      if (!payload.isEmpty()
          && payload.getBytes(StandardCharsets.UTF_8).length <= MAX_NOTIFY_BYTES) {
        payloads.add(payload);
      }
    }
    return List.copyOf(payloads).subList(0, count);
  }

  private String seed() {
    return seeds.get(random.nextInt(seeds.size()));
  }

  private String truncated() {
    String seed = seed();
    return seed.substring(0, 1 + random.nextInt(seed.length() - 1));
  }

  /** Replaces, inserts or deletes a few characters; never returns the seed itself. */
  private String mutated() {
    String seed = seed();
    StringBuilder text = new StringBuilder(seed);
    int edits = 1 + random.nextInt(4);
    for (int i = 0; i < edits && text.length() > 1; i++) {
      int at = random.nextInt(text.length());
      switch (random.nextInt(3)) {
        case 0 -> text.setCharAt(at, (char) (33 + random.nextInt(94)));
        case 1 -> text.insert(at, (char) (33 + random.nextInt(94)));
        default -> text.deleteCharAt(at);
      }
    }
    String result = text.toString();
    return result.equals(seed) ? result + "x" : result;
  }

  private String wrongType() {
    String[] values = {
      "null",
      "true",
      "[]",
      "{}",
      "[1,2,3]",
      "{\"a\":{\"b\":{\"c\":[]}}}",
      "-1",
      "0.5",
      "\"\"",
      "\"8558\"",
      "1e3",
      Integer.toString(random.nextInt())
    };
    return withField(pick(FIELDS), pick(values));
  }

  private String hugeNumber() {
    String[] values = {
      "1e309",
      "-1e309",
      "99999999999999999999999999999",
      "9223372036854775808",
      "65536",
      "0",
      "-9223372036854775809",
      "1.0000000001",
      "4294967297"
    };
    return withField(
        pick(FIELDS), pick(values) + (random.nextBoolean() ? "" : "0".repeat(random.nextInt(5))));
  }

  private String oversized() {
    int size = 4001 + random.nextInt(3900);
    return switch (random.nextInt(3)) {
      case 0 -> "[".repeat(size);
      case 1 -> withField("service", jsonString("s".repeat(size - 300)));
      default -> randomText(size / 4);
    };
  }

  /**
   * A seed with {@code field} set to the raw JSON {@code value}, or the seed with that text
   * appended if unparsable.
   */
  private String withField(String field, String value) {
    try {
      ObjectNode node = (ObjectNode) json.readTree(seed());
      JsonNode parsed = json.readTree(value);
      node.set(field, parsed);
      return node.toString();
    } catch (Exception e) {
      String seed = seed();
      return seed.substring(0, seed.length() - 1) + ",\"" + field + "\":" + value + "}";
    }
  }

  private String randomText(int codePoints) {
    StringBuilder text = new StringBuilder();
    while (text.length() < codePoints) {
      int codePoint = 1 + random.nextInt(0x2FFFF);
      // No NUL (PostgreSQL text cannot hold it) and no lone surrogates (not valid UTF-8).
      if (codePoint < Character.MIN_SURROGATE || codePoint > Character.MAX_SURROGATE) {
        text.appendCodePoint(codePoint);
      }
    }
    return text.toString();
  }

  private String jsonString(String text) {
    try {
      return json.writeValueAsString(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private String pick(String[] values) {
    return values[random.nextInt(values.length)];
  }
}
