package io.github.pgdiscovery.core.protocol;

import java.util.List;

/** Encodes what the parts send, numbers it, and counts it: one sequence per node. */
final class Sender {

  private final MessageCodec codec;
  private final Counters counters;
  private long seq;

  Sender(MessageCodec codec, Counters counters) {
    this.codec = codec;
    this.counters = counters;
  }

  void send(List<Effect> out, String channel, Message message, long wallMillis) {
    out.add(new Effect.Send(channel, codec.encode(message, ++seq, wallMillis), message));
    counters.sent(message);
  }
}
