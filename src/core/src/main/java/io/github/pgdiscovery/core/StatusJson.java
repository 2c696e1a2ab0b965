package io.github.pgdiscovery.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pgdiscovery.core.protocol.Announcement;
import io.github.pgdiscovery.core.protocol.PeerTable;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator view's JSON ({@code GET /bootstrap/postgres}), the same for both adapters; kept
 * apart from HTTP so that it can be checked on plain data.
 */
public final class StatusJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private StatusJson() {}

  /**
   * The route's answer for one actor system: FAILED with the reason when discovery could not start,
   * NOT_STARTED before the method is used (the route never starts it), else the engine's status.
   *
   * @param system the actor system, as {@link EngineStartup} knows it
   * @param started whether the adapter's extension exists; may throw when its creation has just
   *     failed
   * @param status the running engine's status
   */
  public static ObjectNode forSystem(
      Object system, BooleanSupplier started, Supplier<EngineStatus> status) {
    Optional<Throwable> failure = EngineStartup.failure(system);
    if (failure.isPresent()) {
      return failed(failure.get());
    }
    boolean running;
    try {
      running = started.getAsBoolean();
    } catch (RuntimeException e) {
      // A start that failed since the check above: the toolkit rethrows it, and it has been
      // recorded by now.
      return failed(EngineStartup.failure(system).orElse(e));
    }
    return running ? of(status.get()) : notStarted();
  }

  /** Discovery has not been used by this actor system (the route never starts it). */
  public static ObjectNode notStarted() {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("state", "NOT_STARTED");
    json.put("detail", "the postgres discovery method has not been used by this actor system");
    return json;
  }

  /**
   * Discovery could not start: the reason as the failure states it (settings errors name the key).
   */
  public static ObjectNode failed(Throwable failure) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("state", "FAILED");
    json.put(
        "detail",
        failure.getMessage() != null ? failure.getMessage() : failure.getClass().getName());
    return json;
  }

  public static ObjectNode of(EngineStatus status) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("channel", status.channel());
    json.put("state", status.state().name());
    json.put("since", status.since().toString());
    json.put("ready", status.ready());
    json.put("lastError", status.lastError());
    json.put("announcing", status.announcing());
    json.put("heartbeatIntervalMillis", status.heartbeatInterval().toMillis());
    json.set("self", node(status.self()));
    ArrayNode peers = json.putArray("peers");
    for (PeerTable.HeardPeer peer : status.peers()) {
      peers.add(node(peer.node()).put("ageMillis", peer.ageMillis()));
    }
    // Two live nodes on one contact point: a configuration error, logged at ERROR when detected.
    ArrayNode clashes = json.putArray("clashes");
    for (PeerTable.Clash clash : status.protocol().clashes()) {
      ObjectNode entry = clashes.addObject();
      entry.put("endpoint", clash.holder().endpoint());
      entry.putArray("addresses").add(clash.holder().address()).add(clash.other().address());
      entry
          .putArray("incarnations")
          .add(clash.holder().incarnation())
          .add(clash.other().incarnation());
    }
    json.put("clockSkewMillis", status.protocol().clockSkewMillis());
    ObjectNode counters = json.putObject("counters");
    counters.put("sent", status.sent());
    ObjectNode kinds = counters.putObject("sentByType");
    status.protocol().sentByType().forEach(kinds::put);
    counters.put("received", status.received());
    counters.put("accepted", status.accepted());
    counters.put("rejected", status.rejectedTotal());
    ObjectNode reasons = counters.putObject("rejectedByReason");
    status.rejected().forEach((reason, count) -> reasons.put(reason.name(), count));
    counters.put("clashesDetected", status.protocol().clashesDetected());
    counters.put("probeRepliesSuppressed", status.protocol().repliesSuppressed());
    counters.put("reconnects", status.reconnects());
    counters.put("connectionAttempts", status.connectionAttempts());
    return json;
  }

  private static ObjectNode node(Announcement node) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("service", node.service());
    json.put("host", node.host());
    json.put("port", node.port());
    json.put("address", node.address());
    json.put("uid", node.uid());
    json.put("incarnation", node.incarnation());
    return json;
  }
}
