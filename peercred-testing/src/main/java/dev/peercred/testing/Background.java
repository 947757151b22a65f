package dev.peercred.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A task a test runs on a thread of its own (a blocking accept, read or write) while it acts on the
 * other side: the test can wait until the task is {@linkplain #awaitBlockedIn blocked where it
 * should be} before it acts, and then for its result, both with a bound.
 *
 * <pre>{@code
 * Background<Integer> read = Background.virtual(() -> connection.inputStream().read());
 * read.awaitBlockedIn("NativeSocket.await");   // parked waiting for data, not about to be
 * connection.close();
 * assertInstanceOf(AsynchronousCloseException.class, read.failure());
 * }</pre>
 *
 * @param <T> what the task returns
 */
public final class Background<T> {
  /** A task that returns nothing. */
  @FunctionalInterface
  public interface Action {
    void run() throws Exception;
  }

  private final CompletableFuture<T> result = new CompletableFuture<>();
  private final Thread thread;

  private Background(Thread.Builder builder, Callable<T> task) {
    this.thread =
        builder.start(
            () -> {
              try {
                result.complete(task.call());
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
  }

  /** Runs {@code task} on a new virtual thread. */
  public static <T> Background<T> virtual(Callable<T> task) {
    return new Background<>(Thread.ofVirtual(), task);
  }

  /** Runs {@code action} on a new virtual thread. */
  public static Background<Void> virtual(Action action) {
    return virtual(asCallable(action));
  }

  /** Runs {@code task} on a new platform (daemon) thread. */
  public static <T> Background<T> platform(Callable<T> task) {
    return new Background<>(Thread.ofPlatform().daemon(), task);
  }

  /** Runs {@code action} on a new platform (daemon) thread. */
  public static Background<Void> platform(Action action) {
    return platform(asCallable(action));
  }

  /** Runs {@code task} on a new virtual thread if {@code virtual}, else on a platform thread. */
  public static <T> Background<T> start(boolean virtual, Callable<T> task) {
    return virtual ? virtual(task) : platform(task);
  }

  private static Callable<Void> asCallable(Action action) {
    return () -> {
      action.run();
      return null;
    };
  }

  /** The thread running the task. */
  public Thread thread() {
    return thread;
  }

  /** The task's outcome, as a future. */
  public CompletableFuture<T> future() {
    return result;
  }

  public boolean isDone() {
    return result.isDone();
  }

  /** Waits until the task's thread is {@linkplain Await#blocked blocked} in {@code where}. */
  public Background<T> awaitBlockedIn(String where) throws InterruptedException {
    if (result.isDone()) {
      throw new AssertionError(
          "the task ended before it blocked in " + where + ": " + describe(result));
    }
    Await.blocked(thread, where);
    return this;
  }

  /**
   * Waits at most {@link Await#TIMEOUT} for the task, and returns its result.
   *
   * @throws ExecutionException with what the task threw
   * @throws AssertionError if it has not ended in time
   */
  public T get() throws InterruptedException, ExecutionException {
    return get(Await.TIMEOUT);
  }

  /** Waits at most {@code timeout} for the task, and returns its result. */
  public T get(Duration timeout) throws InterruptedException, ExecutionException {
    try {
      return result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError(
          "the task on "
              + thread
              + " has not ended after "
              + timeout.toSeconds()
              + " s; it is at "
              + java.util.Arrays.toString(thread.getStackTrace()));
    }
  }

  /**
   * Waits at most {@link Await#TIMEOUT} for the task to fail, and returns what it threw.
   *
   * @throws AssertionError if it returned instead, or has not ended in time
   */
  public Throwable failure() throws InterruptedException {
    try {
      T value = get();
      throw new AssertionError("the task returned " + value + " instead of failing");
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  /** Waits for the task's thread to end, at most {@link Await#TIMEOUT}. */
  public void join() throws InterruptedException {
    if (!thread.join(Await.TIMEOUT)) {
      throw new AssertionError(
          thread + " has not ended; it is at " + java.util.Arrays.toString(thread.getStackTrace()));
    }
  }

  private static String describe(CompletableFuture<?> done) {
    try {
      return "returned " + done.getNow(null);
    } catch (Exception e) {
      return "threw " + e.getCause();
    }
  }
}
