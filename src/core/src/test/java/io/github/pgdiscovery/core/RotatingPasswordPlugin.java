package io.github.pgdiscovery.core;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.postgresql.plugin.AuthenticationPlugin;
import org.postgresql.plugin.AuthenticationRequestType;

/**
 * A pgjdbc authentication plugin, named in the URL with {@code authenticationPluginClassName}, as a
 * user's plugin that makes an RDS IAM or Entra ID token at each connect would be: pgjdbc creates
 * one per connection and asks it for the password, which the test changes between connects.
 */
public final class RotatingPasswordPlugin implements AuthenticationPlugin {

  static final AtomicReference<String> PASSWORD = new AtomicReference<>();
  static final AtomicInteger ASKED = new AtomicInteger();

  @Override
  public char[] getPassword(AuthenticationRequestType type) {
    ASKED.incrementAndGet();
    return PASSWORD.get().toCharArray();
  }
}
