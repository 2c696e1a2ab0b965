package io.github.pgdiscovery.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test opened (proxies, servers, log captures, taps, nodes), closed after it in the reverse
 * order, as try-with-resources does: what was opened on top of a server (nodes connected to it) is
 * closed before the server.
 */
public final class Resources implements AutoCloseable {

  private final List<AutoCloseable> opened = new ArrayList<>();

  public <T extends AutoCloseable> T add(T resource) {
    opened.add(resource);
    return resource;
  }

  @Override
  public void close() throws Exception {
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
    opened.clear();
  }
}
