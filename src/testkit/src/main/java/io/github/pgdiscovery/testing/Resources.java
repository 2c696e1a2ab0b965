package io.github.pgdiscovery.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test opened (proxies, servers, log captures, taps), closed after it in the order it was
 * opened.
 */
public final class Resources implements AutoCloseable {

  private final List<AutoCloseable> opened = new ArrayList<>();

  public <T extends AutoCloseable> T add(T resource) {
    opened.add(resource);
    return resource;
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable resource : opened) {
      resource.close();
    }
    opened.clear();
  }
}
