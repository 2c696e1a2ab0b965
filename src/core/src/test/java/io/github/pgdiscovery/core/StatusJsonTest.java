package io.github.pgdiscovery.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.DiscoveryProtocol;
import io.github.pgdiscovery.core.protocol.Effect;
import io.github.pgdiscovery.core.protocol.Message;
import io.github.pgdiscovery.core.protocol.MessageCodec;
import io.github.pgdiscovery.core.settings.DiscoverySettings;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The operator view's JSON on plain data: what an operator needs to find a clash. */
final class StatusJsonTest {

  @Test
  void aClashShowsTheEndpointAndBothAddressesAndIsCounted() {
    Announcement self =
        new Announcement("orders", "10.0.0.5", 8558, "akka://orders@10.0.0.5:25520", 5, "self");
    DiscoveryProtocol protocol =
        new DiscoveryProtocol(
            DiscoverySettings.builder("jdbc:postgresql://db/app").build(),
            self,
            new SplittableRandom(1));
    long now = 1_000_000_000L;
    for (Effect effect : protocol.connected(now, 0)) {
      if (effect instanceof Effect.Send send) {
        protocol.received(send.payload(), now, 0);
      }
    }
    MessageCodec codec = new MessageCodec();
    Announcement a =
        new Announcement("orders", "127.0.1.1", 8558, "akka://orders@host-a:25520", 1, "a");
    Announcement b =
        new Announcement("orders", "127.0.1.1", 8558, "akka://orders@host-b:25520", 2, "b");
    protocol.received(codec.encode(new Message.Announce(a)), now, 0);
    protocol.received(codec.encode(new Message.Announce(b)), now, 0);
    protocol.received(codec.encode(new Message.Announce(a)), now, 0);

    JsonNode json =
        StatusJson.of(
            new EngineStatus(
                "akka_discovery",
                EngineStatus.ConnectionState.CONNECTED,
                Instant.EPOCH,
                null,
                self,
                protocol.snapshot(now),
                0,
                0));

    assertEquals(1, json.get("clashes").size());
    assertEquals("127.0.1.1:8558", json.get("clashes").get(0).get("endpoint").asText());
    assertEquals(
        "akka://orders@host-b:25520", json.get("clashes").get(0).get("addresses").get(0).asText());
    assertEquals(
        "akka://orders@host-a:25520", json.get("clashes").get(0).get("addresses").get(1).asText());
    assertEquals(1, json.get("counters").get("clashesDetected").asLong());
  }
}
