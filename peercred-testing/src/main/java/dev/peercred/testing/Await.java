package dev.peercred.testing;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Waits for the state or event a test needs, never for a fixed time: a condition becomes true, a
 * file appears, a thread parks where it should. Every wait is bounded by a generous deadline
 * ({@link #TIMEOUT} unless given), so that a busy machine only makes a test slower, never failing,
 * while a real hang still ends in a failure that says what was awaited.
 *
 * <p>Conditions that nothing announces are checked again and again, with a pause between checks
 * that grows from a millisecond to {@value #MAX_PAUSE_MILLIS} ms. The pause only spaces the checks;
 * what ends the wait is always the state itself.
 */
public final class Await {
  private Await() {}

  /**
   * The bound of a wait when none is given: 60 s, or {@code peercred.test.awaitSeconds}. Far longer
   * than any state change inside the test JVM takes even on a machine many times oversubscribed;
   * class {@code @Timeout}s are longer still.
   */
  public static final Duration TIMEOUT =
      Duration.ofSeconds(Long.getLong("peercred.test.awaitSeconds", 60));

  static final long MAX_PAUSE_MILLIS = 20;

  /** A state to wait for; an exception it throws fails the wait. */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  /** What a failed wait adds to its message: what the test saw meanwhile. */
  @FunctionalInterface
  public interface Details {
    String get() throws Exception;
  }

  /** Waits until {@code condition} holds, at most {@link #TIMEOUT}. */
  public static void until(String what, Condition condition) throws InterruptedException {
    until(TIMEOUT, what, condition, () -> "");
  }

  /**
   * Waits until {@code condition} holds, at most {@link #TIMEOUT}; a failure adds {@code details}
   * (what the test saw meanwhile: a log, a child's output).
   */
  public static void until(String what, Condition condition, Details details)
      throws InterruptedException {
    until(TIMEOUT, what, condition, details);
  }

  /** Waits until {@code condition} holds, at most {@code timeout}. */
  public static void until(Duration timeout, String what, Condition condition)
      throws InterruptedException {
    until(timeout, what, condition, () -> "");
  }

  /**
   * Waits until {@code condition} holds, at most {@code timeout}.
   *
   * @throws AssertionError if it does not hold in time (naming {@code what} and the {@code
   *     details}), or if checking it throws
   */
  public static void until(Duration timeout, String what, Condition condition, Details details)
      throws InterruptedException {
    value(
        timeout,
        what,
        () -> condition.holds() ? Optional.of(Boolean.TRUE) : Optional.empty(),
        details);
  }

  /**
   * Waits until {@code probe} returns a value, at most {@link #TIMEOUT}, and returns it.
   *
   * @param probe returns empty while the value is not there yet
   */
  public static <T> T value(String what, Callable<Optional<T>> probe) throws InterruptedException {
    return value(TIMEOUT, what, probe, () -> "");
  }

  /** Waits until {@code probe} returns a value, at most {@code timeout}, and returns it. */
  public static <T> T value(
      Duration timeout, String what, Callable<Optional<T>> probe, Details details)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 1;
    while (true) {
      Optional<T> value;
      try {
        value = probe.call();
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        throw new AssertionError("checking whether " + what + " failed" + suffix(details), e);
      }
      if (value.isPresent()) {
        return value.get();
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "timed out after " + seconds(timeout) + " waiting for: " + what + suffix(details));
      }
      TimeUnit.MILLISECONDS.sleep(Math.min(pause, TimeUnit.NANOSECONDS.toMillis(left) + 1));
      pause = Math.min(pause * 2, MAX_PAUSE_MILLIS);
    }
  }

  /** Waits until {@code path} exists (not following a symbolic link), at most {@link #TIMEOUT}. */
  public static void file(Path path) throws InterruptedException {
    until(path + " to exist", () -> Files.exists(path, LinkOption.NOFOLLOW_LINKS));
  }

  /**
   * Waits until {@code thread} is blocked where it should be: parked or waiting ({@link
   * Thread.State#WAITING} or {@link Thread.State#TIMED_WAITING}) with a frame of {@code where} on
   * its stack. This is how a test knows that a reader, writer or acceptor has really reached its
   * wait before it acts on it (closes, interrupts, sends), instead of sleeping and hoping.
   *
   * @param where {@code "Class.method"}, the class by simple or fully qualified name, or just
   *     {@code "Class"} for any of its methods
   * @throws AssertionError if the thread ends first or does not block there in time
   */
  public static void blocked(Thread thread, String where) throws InterruptedException {
    until(
        thread + " to block in " + where,
        () -> {
          if (thread.getState() == Thread.State.TERMINATED) {
            throw new IllegalStateException(thread + " ended before it blocked in " + where);
          }
          return isBlockedIn(thread, where);
        },
        () -> thread.getState() + " at " + Arrays.toString(thread.getStackTrace()));
  }

  /** Waits until every one of {@code threads} is {@linkplain #blocked blocked} in {@code where}. */
  public static void blocked(Iterable<Thread> threads, String where) throws InterruptedException {
    for (Thread thread : threads) {
      blocked(thread, where);
    }
  }

  /** Whether {@code thread} is parked or waiting right now with a frame of {@code where}. */
  public static boolean isBlockedIn(Thread thread, String where) {
    Thread.State state = thread.getState();
    if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
      return false;
    }
    for (StackTraceElement frame : thread.getStackTrace()) {
      if (matches(frame, where)) {
        // Still parked once the stack was taken: the frame belongs to this wait.
        Thread.State now = thread.getState();
        return now == Thread.State.WAITING || now == Thread.State.TIMED_WAITING;
      }
    }
    return false;
  }

  private static boolean matches(StackTraceElement frame, String where) {
    String className = frame.getClassName();
    String simple = className.substring(className.lastIndexOf('.') + 1);
    String method = frame.getMethodName();
    return where.equals(className)
        || where.equals(simple)
        || where.equals(className + "." + method)
        || where.equals(simple + "." + method);
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static String suffix(Details details) {
    String text;
    try {
      text = details.get();
    } catch (Exception e) {
      text = "(no details: " + e + ")";
    }
    return text == null || text.isEmpty() ? "" : "\n" + text;
  }
}
