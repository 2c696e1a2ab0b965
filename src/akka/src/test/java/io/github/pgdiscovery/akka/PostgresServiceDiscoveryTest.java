package io.github.pgdiscovery.akka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.discovery.ServiceDiscovery.Resolved;
import akka.discovery.ServiceDiscovery.ResolvedTarget;
import io.github.pgdiscovery.core.protocol.Announcement;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class PostgresServiceDiscoveryTest {

  @Test
  void ipv4LiteralHostCarriesItsAddress() throws Exception {
    ResolvedTarget target = onlyTarget(node("10.0.0.5", 8558));

    assertEquals("10.0.0.5", target.host());
    assertEquals(
        Optional.of(InetAddress.getByAddress(new byte[] {10, 0, 0, 5})), target.getAddress());
  }

  @Test
  void ipv6LiteralHostCarriesItsAddress() throws Exception {
    ResolvedTarget target = onlyTarget(node("2001:db8::17", 8558));

    byte[] expected = new byte[16];
    expected[0] = 0x20;
    expected[1] = 0x01;
    expected[2] = 0x0d;
    expected[3] = (byte) 0xb8;
    expected[15] = 0x17;
    assertEquals(Optional.of(InetAddress.getByAddress(expected)), target.getAddress());
  }

  @Test
  void dnsNameHostCarriesNoAddress() {
    // .invalid never resolves (RFC 6761): an address here could only have come from a lookup, which
    // must not happen.
    ResolvedTarget target = onlyTarget(node("node-1.invalid", 8558));

    assertEquals("node-1.invalid", target.host());
    assertEquals(Optional.empty(), target.getAddress());
  }

  @Test
  void targetsKeepTheContactPointsOrderHostsAndPorts() {
    List<Announcement> contactPoints =
        List.of(
            node("node-2.invalid", 8558),
            node("10.0.0.9", 1),
            node("2001:db8::1", 65535),
            node("10.0.0.1", 8559));

    Resolved resolved = PostgresServiceDiscovery.toResolved("orders", contactPoints);

    List<ResolvedTarget> targets = resolved.getAddresses();
    assertEquals(
        List.of("node-2.invalid:8558", "10.0.0.9:1", "2001:db8::1:65535", "10.0.0.1:8559"),
        targets.stream()
            .map(target -> target.host() + ":" + target.getPort().orElseThrow())
            .toList());
  }

  @Test
  void resolvedNamesTheLookedUpService() {
    Resolved resolved =
        PostgresServiceDiscovery.toResolved("orders", List.of(node("10.0.0.5", 8558)));

    assertEquals("orders", resolved.serviceName());
  }

  @Test
  void noContactPointsResolveToNoTargets() {
    Resolved resolved = PostgresServiceDiscovery.toResolved("orders", List.of());

    assertEquals(List.of(), resolved.getAddresses());
  }

  private static ResolvedTarget onlyTarget(Announcement node) {
    List<ResolvedTarget> targets =
        PostgresServiceDiscovery.toResolved(node.service(), List.of(node)).getAddresses();
    assertEquals(1, targets.size());
    return targets.get(0);
  }

  private static Announcement node(String host, int port) {
    return new Announcement(
        "orders", host, port, "akka://orders@" + host + ":25520", 0, "inc-" + host);
  }
}
