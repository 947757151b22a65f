package dev.peercred.examples;

import dev.peercred.UnixConnection;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.ClosedChannelException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The example servers' accept loop: one virtual thread per connection, and a pause that doubles
 * from 10 ms to 1 s while accepting fails.
 *
 * <p>At the descriptor limit ({@code EMFILE}) the kernel keeps completed connections in the listen
 * backlog; the loop does not drop them (accept and close) but pauses and serves them once
 * descriptors are free again. Clients beyond the backlog wait in {@code connect(2)} or get {@code
 * EAGAIN}, so the load is pushed back to them. Nothing the loop does while descriptors are
 * exhausted needs a new one: the time zone that log records use is read before the loop starts, and
 * a logging failure cannot end the loop.
 */
final class AcceptLoop {
  private AcceptLoop() {}

  /** Where connections come from: a plain or an authorizing listener. */
  @FunctionalInterface
  interface Acceptor {
    UnixConnection accept() throws IOException;
  }

  /** Accepts until {@code open} turns false or the listener is closed. */
  static void run(
      Acceptor acceptor,
      BooleanSupplier open,
      String threadPrefix,
      Consumer<UnixConnection> serve,
      System.Logger log) {
    java.time.ZoneId.systemDefault(); // read now, while a descriptor is sure to be available
    long pauseMillis = 10;
    while (open.getAsBoolean()) {
      UnixConnection connection;
      try {
        connection = acceptor.accept();
        pauseMillis = 10;
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!open.getAsBoolean()) {
          return;
        }
        warn(log, pauseMillis, e);
        try {
          Thread.sleep(pauseMillis);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
        pauseMillis = Math.min(pauseMillis * 2, 1000);
        continue;
      }
      Thread.ofVirtual()
          .name(threadPrefix, connection.peerCredentials().pid().orElse(0))
          .start(() -> serve.accept(connection));
    }
  }

  private static void warn(System.Logger log, long pauseMillis, IOException e) {
    try {
      log.log(Level.WARNING, "accept failed, retrying in {0} ms: {1}", pauseMillis, e.getMessage());
    } catch (RuntimeException | Error logFailure) {
      if (logFailure instanceof VirtualMachineError fatal) {
        throw fatal;
      }
    }
  }
}
