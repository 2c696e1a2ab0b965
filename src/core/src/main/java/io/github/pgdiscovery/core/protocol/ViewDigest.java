package io.github.pgdiscovery.core.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/**
 * The digest of a view that a probe carries: a responder whose view has the same digest answers
 * with an empty roster ("nothing you do not know") instead of repeating the view.
 */
public final class ViewDigest {

  private ViewDigest() {}

  /**
   * A digest of a set of incarnations, independent of their order: the first 128 bits of SHA-256
   * over them sorted and comma-separated, base64url without padding (22 characters). Equal views
   * give equal digests; a different view gives another digest except with a chance of 2^-128.
   */
  public static String of(Collection<String> incarnations) {
    List<String> sorted = new ArrayList<>(incarnations);
    Collections.sort(sorted);
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest(String.join(",", sorted).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(hash, 16));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }

  /** The digest of what {@code peers} hold live of {@code service}, and {@code self} if its own. */
  static String of(PeerTable peers, String service, Announcement self, long now) {
    List<String> incarnations = new ArrayList<>();
    for (PeerTable.Live live : peers.live(service, now)) {
      incarnations.add(live.node().incarnation());
    }
    if (service.equals(self.service())) {
      incarnations.add(self.incarnation());
    }
    return of(incarnations);
  }
}
