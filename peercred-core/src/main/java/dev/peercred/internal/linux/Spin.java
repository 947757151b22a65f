package dev.peercred.internal.linux;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * When a read or an accept finds nothing, whether to retry for a few microseconds before parking.
 *
 * <p>Parking costs a poller wake-up and a scheduler hand-off (tens of microseconds on a busy
 * machine); a request-reply peer often answers sooner than that, and a busy listener has its next
 * connection sooner still. So a reader (or an accept loop) that got {@code EAGAIN} may retry for at
 * most {@link #BUDGET_NANOS}, yielding between tries so that other virtual threads on its carrier
 * (the handlers an accept loop just started) still run. The retry is bounded and adaptive:
 *
 * <ul>
 *   <li>at most {@link #MAX_SPINNERS} threads in the process spin at a time (two on a 2-core
 *       machine), so spinning never takes every core from the peers it waits for; between tries the
 *       spinner yields to other virtual threads and to the operating system's threads;
 *   <li>each socket keeps a credit: a spin that found data earns one, a spin that ended in a park
 *       anyway costs {@link #MISS_COST}; with no credit left the socket parks at once and only
 *       tries a spin again every {@link #PROBE_INTERVAL} waits, so idle or slow connections (a held
 *       connection, a human at a terminal) cost no CPU.
 * </ul>
 */
final class Spin {
  private Spin() {}

  /**
   * The longest a reader retries before parking: 20 µs unless the system property {@code
   * dev.peercred.readSpinMicros} says otherwise (0 turns the retry off, at most 1000).
   */
  static final long BUDGET_NANOS = budgetNanos();

  private static long budgetNanos() {
    long micros = 20;
    try {
      micros = Long.parseLong(System.getProperty("dev.peercred.readSpinMicros", "20").strip());
    } catch (NumberFormatException | SecurityException e) {
      // keep the default
    }
    return Math.clamp(micros, 0, 1000) * 1000;
  }

  static final int MAX_CREDIT = 16;
  static final int MISS_COST = 4;
  static final int PROBE_INTERVAL = 32;

  /** Threads spinning right now. */
  private static final AtomicInteger SPINNERS = new AtomicInteger();

  /**
   * Takes one of the process's spin permits, or returns false if none is free or spinning is off.
   */
  /**
   * Threads that may spin at once: two (one on a single CPU), or half the CPUs when there are more
   * than four; the system property {@code dev.peercred.maxSpinners} overrides it. Because a spinner
   * yields its CPU between tries, two spinners on two cores do not starve the peers they wait for
   * (a spin without those yields did).
   */
  static final int MAX_SPINNERS =
      Math.max(1, Integer.getInteger("dev.peercred.maxSpinners", defaultSpinners()));

  private static int defaultSpinners() {
    int cpus = Runtime.getRuntime().availableProcessors();
    return Math.max(Math.min(2, cpus), cpus / 2);
  }

  static boolean tryStart() {
    if (BUDGET_NANOS == 0) {
      return false;
    }
    int n;
    do {
      n = SPINNERS.get();
      if (n >= MAX_SPINNERS) {
        return false;
      }
    } while (!SPINNERS.compareAndSet(n, n + 1));
    return true;
  }

  /** {@code sched_yield(2)}: never blocks, so it is linked critical; linked at the first pause. */
  private static final class Handles {
    static final MethodHandle SCHED_YIELD =
        NativeAccess.link(
            "sched_yield", FunctionDescriptor.of(ValueLayout.JAVA_INT), NativeAccess.HEAP);
  }

  /**
   * Lets others run between two tries: the virtual threads queued on this carrier, then the
   * operating system's other runnable threads on this CPU (often the very peer being waited for).
   */
  static void pause() {
    Thread.yield();
    NativeAccess.check();
    try {
      int unused = (int) Handles.SCHED_YIELD.invokeExact();
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  static void end() {
    SPINNERS.decrementAndGet();
  }
}
