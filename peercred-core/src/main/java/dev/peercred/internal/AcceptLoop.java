package dev.peercred.internal;

import dev.peercred.Listener;
import dev.peercred.UnixConnection;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.channels.ClosedChannelException;
import java.time.ZoneId;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The accept loop behind {@link Listener#serve}: a virtual thread per accepted item, a growing
 * pause while accepting fails, and a return only once every handler has returned.
 *
 * <p>At the descriptor limit ({@code EMFILE}) the kernel keeps completed connections in the listen
 * backlog; the loop does not drop them (accept and close) but pauses and serves them once
 * descriptors are free again, so clients beyond the backlog wait in {@code connect(2)}. Nothing the
 * loop does while descriptors are exhausted needs a new one: the time zone that log records use is
 * read before the loop starts, and a failure to log cannot end the loop.
 */
public final class AcceptLoop {
  private AcceptLoop() {}

  private static final Logger LOG = System.getLogger("dev.peercred");
  private static final long FIRST_PAUSE_MILLIS = 10;
  private static final long LONGEST_PAUSE_MILLIS = 1000;

  /** Waits for the next item to serve. */
  @FunctionalInterface
  public interface Acceptor<T> {
    /**
     * Returns the next item.
     *
     * @return the accepted item
     * @throws IOException if accepting fails; {@link ClosedChannelException} once closed
     */
    T accept() throws IOException;
  }

  /** Serves one accepted item. */
  @FunctionalInterface
  public interface Handler<T> {
    /**
     * Serves {@code item}.
     *
     * @param item what was accepted
     * @throws IOException if serving it fails
     */
    void handle(T item) throws IOException;
  }

  /** Serves {@code listener}'s connections with {@code handler}; see {@link Listener#serve}. */
  public static void serve(Listener listener, Listener.ConnectionHandler handler) {
    run(listener::accept, listener::isOpen, c -> c, handler::handle);
  }

  /**
   * Accepts items until {@code open} turns false or accepting reports the source closed, serving
   * each on a new virtual thread; returns once every handler has returned.
   *
   * @param acceptor where items come from
   * @param open whether the source is still open (checked after a failed accept)
   * @param connectionOf the connection an item holds, closed after its handler
   * @param handler serves one item
   * @param <T> what the acceptor gives
   */
  public static <T> void run(
      Acceptor<T> acceptor,
      BooleanSupplier open,
      Function<T, UnixConnection> connectionOf,
      Handler<T> handler) {
    if (Thread.currentThread().isVirtual()) {
      accept(acceptor, open, connectionOf, handler);
      return;
    }
    // A platform caller (a server's main thread) hands the loop to a virtual thread: waiting for
    // the next connection then parks a virtual thread, which the poller wakes without a futex
    // call and a switch to a sleeping thread of its own, and the handlers it starts go to the
    // queue of the carrier it runs on. The caller waits for it; interrupting the caller
    // interrupts the loop, which then behaves as if interrupted itself.
    Thread loop =
        Thread.ofVirtual()
            .name("peercred-accept")
            .start(() -> accept(acceptor, open, connectionOf, handler));
    boolean interrupted = false;
    while (true) {
      try {
        loop.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
        loop.interrupt();
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static <T> void accept(
      Acceptor<T> acceptor,
      BooleanSupplier open,
      Function<T, UnixConnection> connectionOf,
      Handler<T> handler) {
    ZoneId.systemDefault(); // read now, while a descriptor is sure to be available
    try (ExecutorService handlers =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("peercred-connection-", 1).factory())) {
      long pauseMillis = FIRST_PAUSE_MILLIS;
      while (open.getAsBoolean()) {
        T item;
        try {
          item = acceptor.accept();
          pauseMillis = FIRST_PAUSE_MILLIS;
        } catch (ClosedChannelException e) {
          return;
        } catch (IOException e) {
          if (!open.getAsBoolean()) {
            return;
          }
          log(Level.WARNING, "accept failed, retrying in {0} ms: {1}", pauseMillis, e.getMessage());
          if (!pause(pauseMillis, open)) {
            return;
          }
          pauseMillis = Math.min(pauseMillis * 2, LONGEST_PAUSE_MILLIS);
          continue;
        }
        handlers.execute(() -> serveOne(item, connectionOf.apply(item), handler));
      }
    }
  }

  private static <T> void serveOne(T item, UnixConnection connection, Handler<T> handler) {
    try (connection) {
      handler.handle(item);
    } catch (IOException e) {
      log(Level.DEBUG, "connection {0} ended: {1}", connection, e.toString());
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "connection " + connection + ": handler failed", e);
    }
  }

  /** Sleeps {@code millis}, waking early once closed; false if closed or interrupted. */
  private static boolean pause(long millis, BooleanSupplier open) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    try {
      while (open.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return true;
        }
        TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(10)));
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void log(Level level, String format, Object... arguments) {
    try {
      LOG.log(level, format, arguments);
    } catch (RuntimeException | Error logFailure) {
      if (logFailure instanceof VirtualMachineError fatal) {
        throw fatal;
      }
    }
  }
}
