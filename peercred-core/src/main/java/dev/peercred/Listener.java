package dev.peercred;

import dev.peercred.internal.AcceptLoop;
import java.io.IOException;
import java.time.Duration;

/**
 * A listening socket whose accepted connections carry their peer's credentials: a {@link
 * UnixListener}, or an {@link dev.peercred.policy.AuthorizingListener} that hands out only the
 * connections its policy allows. Code that accepts connections (a server loop, a proxy, an
 * integration) takes a {@code Listener} and works with either.
 *
 * <p>Serve connections with {@link #serve(ConnectionHandler)}, which runs the accept loop a server
 * needs (a virtual thread per connection, a pause instead of a spin while accepting fails), or call
 * {@link #accept()} directly:
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = server}
 *
 * <p><b>Threads and closing.</b> Any thread may call {@link #accept()}, and {@link #close()} at any
 * time; closing wakes threads blocked in {@code accept()}. Closing does not close connections
 * already accepted; {@link #closeGracefully(Duration)} also waits for them to finish.
 */
public interface Listener extends AutoCloseable {

  /**
   * Waits for a connection and returns it with its peer's credentials already read.
   *
   * @return the next connection; the caller owns it and must close it
   * @throws java.nio.channels.ClosedChannelException if the listener is closed
   * @throws java.nio.channels.AsynchronousCloseException if it is closed while this call waits
   * @throws IOException if accepting fails, for example with {@code EMFILE} when the process has no
   *     descriptors left
   */
  UnixConnection accept() throws IOException;

  /**
   * Accepts connections until this listener is closed, and serves each on a virtual thread of its
   * own with {@code handler}. The connection is closed when the handler returns or throws, so the
   * handler need not close it; an {@link IOException} it throws (a client that went away) is logged
   * at {@code DEBUG}, anything else at {@code ERROR}, and neither stops the loop.
   *
   * <p>While accepting fails (for example at the descriptor limit, {@code EMFILE}, where the kernel
   * keeps completed connections in the backlog), the loop logs a warning and pauses, doubling the
   * pause from 10 ms to 1 s, so the server neither dies nor spins; the pending clients are served
   * once descriptors are free again.
   *
   * <p>Returns once the listener is closed (by {@link #close()} or {@link
   * #closeGracefully(Duration)} on another thread) and every handler it started has returned.
   * Interrupting the thread that runs the loop closes the listener, interrupts the handlers (which
   * closes the connections they block on) and returns once they have.
   *
   * @param handler serves one connection; called on a new virtual thread for each
   */
  default void serve(ConnectionHandler handler) {
    AcceptLoop.serve(this, handler);
  }

  /** The address this listener is bound to. */
  UnixSocketAddress localAddress();

  /** True until {@link #close()} is called. */
  boolean isOpen();

  /**
   * Stops accepting, then waits up to {@code timeout} for the connections this listener accepted to
   * be closed by whoever serves them; connections still open after that are closed, which wakes
   * their blocked readers and writers with {@link java.nio.channels.AsynchronousCloseException}.
   *
   * @param timeout how long open connections may take to finish; {@link Duration#ZERO} closes them
   *     at once
   * @return true if every connection finished within the timeout, false if some were closed
   * @throws InterruptedException if the thread is interrupted while waiting (connections are then
   *     left open)
   * @throws IllegalArgumentException if {@code timeout} is negative
   */
  boolean closeGracefully(Duration timeout) throws InterruptedException;

  /** Stops listening and wakes threads blocked in {@link #accept()}. Idempotent. */
  @Override
  void close();

  /** Serves one accepted connection; see {@link Listener#serve(ConnectionHandler)}. */
  @FunctionalInterface
  interface ConnectionHandler {
    /**
     * Serves {@code connection}, which is closed when this method returns or throws.
     *
     * @param connection the accepted connection, its peer's credentials already read
     * @throws IOException if the connection fails (the peer went away, a timeout passed)
     */
    void handle(UnixConnection connection) throws IOException;
  }
}
