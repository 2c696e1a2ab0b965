package io.github.pgdiscovery.core.protocol;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/** Checks on the host part of a contact point, without ever asking DNS. */
public final class HostNames {

  public static final int MAX_LENGTH = 253;

  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  // The first character matters: InetAddress.getByName treats only strings starting with a hex
  // digit or ':' as
  // literals and would send anything else (".:1") to the resolver, a lookup chosen by whoever sent
  // the message.
  private static final Pattern IPV6_CHARS =
      Pattern.compile("[0-9A-Fa-f:][0-9A-Fa-f:.]*(%[0-9A-Za-z._-]+)?");
  // Underscores are not valid in DNS names but do occur in container host names (docker compose),
  // so we accept them.
  private static final Pattern DNS_LABEL =
      Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");

  private HostNames() {}

  /**
   * True for an IPv4 or IPv6 literal (IPv6 with or without brackets) or a syntactically valid DNS
   * name.
   */
  public static boolean isValid(String host) {
    if (host == null || host.isEmpty() || host.length() > MAX_LENGTH) {
      return false;
    }
    if (ipLiteral(host).isPresent()) {
      return true;
    }
    String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    if (name.isEmpty()) {
      return false;
    }
    for (String label : name.split("\\.", -1)) {
      if (!DNS_LABEL.matcher(label).matches()) {
        return false;
      }
    }
    // An all-numeric dotted name that is not a valid IPv4 literal (999.1.1.1) is rejected rather
    // than looked up.
    return !name.matches("[0-9.]+");
  }

  /** The address of an IP literal, parsed without DNS; empty for a host name. */
  public static Optional<InetAddress> ipLiteral(String host) {
    String bare =
        host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    boolean literal =
        IPV4.matcher(bare).matches()
            || (bare.indexOf(':') >= 0 && IPV6_CHARS.matcher(bare).matches());
    if (!literal) {
      return Optional.empty();
    }
    try {
      // For a string that is an IPv4 or IPv6 literal, getByName parses it and makes no lookup.
      return Optional.of(InetAddress.getByName(bare));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }
}
