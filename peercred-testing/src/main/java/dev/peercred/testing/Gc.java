package dev.peercred.testing;

import java.lang.ref.WeakReference;

/** Garbage collections a test can rely on having happened. */
public final class Gc {
  private Gc() {}

  /**
   * Runs the collector until it has provably collected: an object reachable only weakly, made for
   * the purpose, is gone. Waits at most {@link Await#TIMEOUT}.
   */
  public static void collect() throws InterruptedException {
    WeakReference<Object> canary = new WeakReference<>(new Object());
    Await.until(
        "a garbage collection",
        () -> {
          System.gc();
          return canary.get() == null;
        });
  }

  /** Heap in use right after {@linkplain #collect() a collection}, in bytes. */
  public static long usedHeap() throws InterruptedException {
    collect();
    Runtime runtime = Runtime.getRuntime();
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
