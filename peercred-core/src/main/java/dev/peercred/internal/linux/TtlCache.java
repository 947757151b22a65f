package dev.peercred.internal.linux;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small least-recently-used map whose answers expire: user-database lookups are cached so that
 * repeated checks stay cheap, yet a renamed or removed account is seen soon. Thread-safe.
 */
final class TtlCache<K, V> {
  private record Answer<V>(V value, long expires) {}

  private final long ttlNanos;
  private final Map<K, Answer<V>> map;

  TtlCache(int capacity, long ttlNanos) {
    this.ttlNanos = ttlNanos;
    this.map =
        new LinkedHashMap<>(capacity * 2, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<K, Answer<V>> eldest) {
            return size() > capacity;
          }
        };
  }

  /** The cached answer, or null if there is none or it has expired. */
  synchronized V get(K key) {
    Answer<V> entry = map.get(key);
    if (entry == null) {
      return null;
    }
    if (System.nanoTime() - entry.expires > 0) {
      map.remove(key);
      return null;
    }
    return entry.value;
  }

  synchronized void put(K key, V value) {
    map.put(key, new Answer<>(value, System.nanoTime() + ttlNanos));
  }

  synchronized void clear() {
    map.clear();
  }
}
