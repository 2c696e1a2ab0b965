package io.github.pgdiscovery.core.protocol;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A map that forgets its eldest entry beyond a fixed size, so state kept per sender cannot grow
 * without limit however many senders a flood invents. Not thread-safe.
 */
final class BoundedMap<K, V> extends LinkedHashMap<K, V> {

  private static final long serialVersionUID = 1L;

  private final int maxSize;

  /**
   * @param accessOrder true: eldest means least recently used; false: least recently inserted
   */
  BoundedMap(int maxSize, boolean accessOrder) {
    super(16, 0.75f, accessOrder);
    this.maxSize = maxSize;
  }

  @Override
  protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
    return size() > maxSize;
  }
}
