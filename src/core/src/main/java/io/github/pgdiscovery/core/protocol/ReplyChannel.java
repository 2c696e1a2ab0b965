package io.github.pgdiscovery.core.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where a prober hears the answers to its probes: a channel of its own, so that a reply reaches the
 * prober alone. A broadcast reply would wake every node, and one join of a cluster of N would cost
 * N x N deliveries instead of N.
 */
public final class ReplyChannel {

  private ReplyChannel() {}

  /**
   * The reply channel of the node with {@code incarnation} on {@code channel}: "pgd_" and 32 hex
   * digits of a hash of both, so it is always a valid identifier, differs per channel, is the same
   * at every node, and is not a name the sender of a probe can choose.
   */
  public static String of(String channel, String incarnation) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest((channel + "/" + incarnation).getBytes(StandardCharsets.UTF_8));
      return "pgd_" + HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }
}
